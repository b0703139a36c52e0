import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Email, Mailer } from '../../usecases/ports.ts';

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
const encodeHeader = (value: string): string =>
  /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

/**
 * SES's stand-in on one machine: each email is an RFC 5322 message file in the outbox
 * (`$HOOKLINE_DATA_DIR/outbox/`), written atomically, readable by any mail client.
 */
export class OutboxMailer implements Mailer {
  private readonly dir: string;
  private readonly from: string;
  constructor(dir: string, from = 'Hookline <hookline@localhost>') {
    this.dir = dir;
    this.from = from;
  }

  async send(email: Email): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const now = new Date();
    const id = randomUUID();
    const message = [
      `From: ${this.from}`,
      `To: ${email.to}`,
      `Subject: ${encodeHeader(email.subject.replace(/[\r\n]+/g, ' '))}`,
      `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <${id}@hookline.localhost>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      email.text,
    ].join('\r\n').replace(/\r?\n/g, '\r\n');
    const file = join(this.dir, `${now.toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
    await writeFile(`${file}.tmp`, message + '\r\n', { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}
