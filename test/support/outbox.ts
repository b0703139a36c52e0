/**
 * The one-machine runtime's stand-in for SES: every email is an RFC 5322 `.eml` file in
 * `$HOOKLINE_DATA_DIR/outbox/`. These helpers read them back the way a mail client would.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface OutboxEmail {
  readonly file: string;
  /** Header names lower-cased; folded lines unfolded. */
  readonly headers: Readonly<Record<string, string>>;
  readonly to: string;
  readonly subject: string;
  /** The body with CRLF turned into LF. */
  readonly text: string;
  /** The whole message as written. */
  readonly raw: string;
}

/** Every finished email in the outbox (`.tmp` files being written are skipped), oldest name first. */
export async function readOutbox(dataDir: string): Promise<OutboxEmail[]> {
  const dir = join(dataDir, 'outbox');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const emails: OutboxEmail[] = [];
  for (const name of names.filter((n) => n.endsWith('.eml')).sort()) {
    const raw = await readFile(join(dir, name), 'utf8');
    emails.push(parseEmail(name, raw));
  }
  return emails;
}

/** The emails whose subject or body mention `needle` (e.g. a webhook id). */
export async function emailsMentioning(dataDir: string, needle: string): Promise<OutboxEmail[]> {
  return (await readOutbox(dataDir)).filter((e) => e.subject.includes(needle) || e.text.includes(needle));
}

export function parseEmail(file: string, raw: string): OutboxEmail {
  const normalized = raw.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = split === -1 ? normalized : normalized.slice(0, split);
  const text = split === -1 ? '' : normalized.slice(split + 2);
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return { file, headers, to: headers['to'] ?? '', subject: decodeWords(headers['subject'] ?? ''), text, raw };
}

/** RFC 2047 `=?UTF-8?B?...?=` encoded words, as the outbox mailer writes non-ASCII subjects. */
const decodeWords = (value: string): string =>
  value.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
