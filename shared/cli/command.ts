/** What every command gets, and how commands and command groups are declared. */
import { HelpRequest } from './args.ts';
import { ApiClient } from './client.ts';
import { loadConfig } from './config.ts';
import { UsageError } from './errors.ts';
import type { Io } from './output.ts';

export interface Context {
  readonly io: Io;
  readonly configPath: string;
  readonly now: () => Date;
  /** Aborted on SIGINT, SIGTERM or SIGHUP: long-running commands (`--follow`) stop cleanly. */
  readonly signal: AbortSignal;
  /** A client for the saved login (ConfigError when there is none). */
  client(): Promise<ApiClient>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves with the process exit code. */
  run(argv: readonly string[], ctx: Context): Promise<number>;
}

export function createContext(io: Io, configPath: string, signal: AbortSignal): Context {
  let client: Promise<ApiClient> | undefined;
  return {
    io,
    configPath,
    signal,
    now: () => new Date(),
    client: () =>
      (client ??= loadConfig(configPath).then((config) => {
        for (const warning of config.warnings) io.stderr.write(`hookline: warning: ${warning}\n`);
        return new ApiClient(config.url, config.key);
      })),
  };
}

/** `hookline <group> <sub> ...`: dispatches on the first argument, lists its commands on --help. */
export function commandGroup(name: string, summary: string, commands: readonly Command[]): Command {
  const usage = [
    `Usage: hookline ${name} <command> [options]`,
    '',
    summary,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(10)}${c.summary}`),
    '',
    `Run \`hookline ${name} <command> --help\` for a command's options.`,
  ].join('\n');
  return {
    name,
    summary,
    usage,
    run: async (argv, ctx) => {
      const [sub, ...rest] = argv;
      if (sub === undefined) throw new UsageError(`missing command`, usage);
      if (sub === '--help' || sub === '-h' || sub === 'help') throw new HelpRequest(usage);
      const command = commands.find((c) => c.name === sub);
      if (!command) throw new UsageError(`unknown command: ${name} ${sub}`, usage);
      return command.run(rest, ctx);
    },
  };
}
