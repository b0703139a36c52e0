/** `hookline verify`: checks a received webhook's signature offline and says why it fails. */
import { readFile } from 'node:fs/promises';
import { DEFAULT_SIGNATURE_HEADER } from '../../config.ts';
import { parseCommand, parseDuration } from '../args.ts';
import type { Command } from '../command.ts';
import { CliError, InputError, UsageError } from '../errors.ts';
import { readInput } from '../input.ts';
import { printJson, printLine } from '../output.ts';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_SCHEMES, verifySignature, type SignatureScheme } from '../verify-signature.ts';

const usage = `Usage: hookline verify --secret <secret> [--body <file>] (-H 'name: value')... [options]

Checks the signatures of a webhook you received, offline: the Standard Webhooks headers
(webhook-id, webhook-timestamp, webhook-signature) and the hex header (${DEFAULT_SIGNATURE_HEADER}),
whichever are present. When a check fails it says why: a missing or malformed header, no
signature of a version it knows, a timestamp outside the tolerance, a body that was changed
(re-serialized JSON, line endings, a trailing newline), or a wrong secret.
Exits with 0 when every signature checked verifies, 1 otherwise. During a secret rotation the
hex header is signed with the newest secret only; webhook-signature with each active one.

Options:
  --secret <secret>          the webhook's secret (repeat during a rotation: new and old)
  --secret-file <file>       secrets one per line, instead of --secret (keeps them out of ps)
  --body <file>              the raw body as received (default: stdin)
  -H, --header <h>           a received header, "name: value" (repeatable)
  --headers <file>           received headers: a JSON object, or "name: value" lines
                             (an HTTP request's head; a request line is skipped)
  --signature-header <name>  name of the hex header (default ${DEFAULT_SIGNATURE_HEADER})
  --tolerance <duration>     how far webhook-timestamp may be from now (default 5m)
  --scheme <scheme>          check only standard-webhooks or hex (default: every one present)
  --json                     print {"valid", "reason"?, "message", "checks"}`;

export const verify: Command = {
  name: 'verify',
  summary: 'check a received webhook\'s signature offline, and say why it fails',
  usage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, {
      usage,
      options: {
        secret: { type: 'string', multiple: true },
        'secret-file': { type: 'string' },
        body: { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        headers: { type: 'string' },
        'signature-header': { type: 'string' },
        tolerance: { type: 'string' },
        scheme: { type: 'string' },
      },
    });
    const secrets = [...(values.secret ?? [])];
    if (values['secret-file'] !== undefined) {
      secrets.push(...(await readText(values['secret-file'])).split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== ''));
    }
    if (secrets.length === 0) throw new UsageError('give the webhook\'s secret with --secret or --secret-file', usage);
    if (values.body === undefined && ctx.io.stdin.isTTY) throw new UsageError('give the body with --body <file>, or pipe it into stdin', usage);

    const headers: Record<string, string> = {};
    if (values.headers !== undefined) Object.assign(headers, parseHeaderFile(await readText(values.headers), values.headers));
    for (const line of values.header ?? []) {
      const parsed = headerLine(line);
      if (!parsed) throw new UsageError(`-H must be "name: value", got "${line}"`, usage);
      headers[parsed[0]] = parsed[1];
    }
    const scheme = values.scheme;
    if (scheme !== undefined && !(SIGNATURE_SCHEMES as readonly string[]).includes(scheme)) {
      throw new UsageError(`--scheme must be one of ${SIGNATURE_SCHEMES.join(', ')}`, usage);
    }
    const result = verifySignature({
      body: await readInput(ctx.io, values.body ?? '-'),
      headers,
      secrets,
      signatureHeader: values['signature-header'] ?? DEFAULT_SIGNATURE_HEADER,
      toleranceSeconds: values.tolerance === undefined ? DEFAULT_TOLERANCE_SECONDS : parseDuration('tolerance', values.tolerance, usage),
      now: ctx.now(),
      ...(scheme === undefined ? {} : { schemes: [scheme as SignatureScheme] }),
    });

    if (values.json) {
      printJson(ctx.io, result);
      return result.valid ? 0 : 1;
    }
    for (const check of result.checks) printLine(ctx.io, `${check.valid ? 'ok  ' : 'FAIL'}  ${check.message}`);
    // Each check's reason is on stdout above; stderr gets the verdict.
    if (!result.valid) throw new CliError(`signature does not verify (${result.reason})`);
    printLine(ctx.io, 'Signature valid.');
    return 0;
  },
};

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const headerLine = (line: string): [string, string] | undefined => {
  const match = /^\s*([^:\s]+)\s*:\s?(.*)$/.exec(line);
  return match ? [match[1]!, match[2]!.trim()] : undefined;
};

/** A JSON object of headers (values: strings, or arrays of them), or an HTTP head of "name: value" lines. */
export function parseHeaderFile(text: string, source: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value)) headers[name] = value.map(String).join(' ');
      else if (typeof value === 'number') headers[name] = String(value);
    }
    return headers;
  }
  const lines = text.split(/\r?\n/);
  // A captured request starts with its request line (POST /hook HTTP/1.1): not a header.
  const first = lines[0] && /^[A-Z]+ \S+ HTTP\/\d/.test(lines[0]) ? 1 : 0;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') break; // the end of an HTTP head; the body would follow
    const parsed = headerLine(line);
    if (!parsed) throw new InputError(`${source}: line ${i + 1} is not "name: value"`);
    headers[parsed[0]] = parsed[1];
  }
  return headers;
}
