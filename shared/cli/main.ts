/**
 * The `hookline` command line: dispatches to a command, and turns what goes wrong into a message
 * on stderr and an exit code (0 success, 1 failure, 2 a command line that cannot be run).
 * shared/cli/bin.mjs starts it (under a Node that can run TypeScript).
 */
import { HOOKLINE_VERSION } from '../config.ts';
import { onStopSignals } from '../stop-signals.ts';
import { HelpRequest } from './args.ts';
import { createContext, type Command } from './command.ts';
import { deliveries } from './commands/deliveries.ts';
import { events } from './commands/events.ts';
import { login } from './commands/login.ts';
import { portal } from './commands/portal.ts';
import { recover } from './commands/recover.ts';
import { verify } from './commands/verify.ts';
import { webhooks } from './commands/webhooks.ts';
import { configPath } from './config.ts';
import { ApiError, CliError, UsageError } from './errors.ts';
import { formatDetail, type Io } from './output.ts';

const COMMANDS: readonly Command[] = [login, webhooks, events, deliveries, recover, portal, verify];

const USAGE = `Usage: hookline <command> [options]

The command line of Hookline, a webhook delivery service.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Every command takes --help, and --json to print JSON for scripts instead of text.
Start with: hookline login --url http://127.0.0.1:3000`;

/** Runs one command line; resolves with the exit code. */
export async function run(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-v') {
      io.stdout.write(`hookline ${HOOKLINE_VERSION}\n`);
      return 0;
    }
    if (name === undefined) throw new UsageError('missing command', USAGE);
    if (name === '--help' || name === '-h' || name === 'help') throw new HelpRequest(USAGE);
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command: ${name}`, USAGE);
    return await command.run(rest, createContext(io, configPath(io.env), signal));
  } catch (error) {
    return report(io, error);
  }
}

function report(io: Io, error: unknown): number {
  if (error instanceof HelpRequest) {
    io.stdout.write(error.usage + '\n');
    return 0;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`hookline: ${error.message}\n${error.usage ? `\n${error.usage}\n` : ''}`);
    return error.exitCode;
  }
  if (error instanceof CliError) {
    io.stderr.write(`hookline: ${error.message}\n`);
    if (error instanceof ApiError) for (const detail of error.details ?? []) io.stderr.write(`  ${formatDetail(detail)}\n`);
    return error.exitCode;
  }
  io.stderr.write(`hookline: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** Runs the process's command line: SIGINT, SIGTERM and SIGHUP stop a long-running command cleanly. */
export async function main(): Promise<void> {
  const stop = new AbortController();
  // Ctrl-C again, while the first is being handled, ends the process at once. The listeners stay
  // to the end: a copy of the first signal that came late would otherwise kill the process.
  onStopSignals(
    () => stop.abort(),
    () => process.exit(130),
  );
  const io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
  process.exitCode = await run(process.argv.slice(2), io, stop.signal);
}
