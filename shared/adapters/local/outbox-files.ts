import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Email } from '../../usecases/ports.ts';

/**
 * SES's stand-in on one machine, its files: each email an RFC 5322 message file in the outbox
 * (`$HOOKLINE_DATA_DIR/outbox/`), written atomically, readable by any mail client. SqliteOutbox
 * decides when an email's file is written.
 */

/** The one-machine runtime's sender address. */
export const OUTBOX_FROM = 'Hookline <hookline@localhost>';

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
const encodeHeader = (value: string): string =>
  /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

/** An email as its outbox file: a name that sorts by time and is unique, and the RFC 5322 message. */
export function outboxEmail(email: Email, from: string, now: Date): { file: string; message: string } {
  const id = randomUUID();
  const message = [
    `From: ${from}`,
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
  return { file: `${now.toISOString().replace(/[:.]/g, '-')}-${id}.eml`, message: message + '\r\n' };
}

/**
 * Writes `file` into the outbox `dir` (0600, through a temporary file and a rename: a reader
 * never sees half a message), unless it is there already: writing one email twice leaves one file.
 */
export function writeOutboxFile(dir: string, file: string, message: string): void {
  const path = join(dir, file);
  if (existsSync(path)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, message, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
