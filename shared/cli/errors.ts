/**
 * What the CLI reports on stderr. Each error carries the process exit code it ends with:
 * 1 for a failure (the API said no, the network is down, a signature does not verify), 2 for a
 * command line that cannot be run as typed (as most Unix tools do).
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A command line that cannot be run: unknown option, missing argument, bad value. */
export class UsageError extends CliError {
  /** The usage of the command the error is about, printed after the message. */
  readonly usage?: string;
  constructor(message: string, usage?: string) {
    super(message, { exitCode: 2 });
    if (usage !== undefined) this.usage = usage;
  }
}

/** No saved login, or a config file that cannot be read. */
export class ConfigError extends CliError {}

/** The API answered with a status other than 2xx; `error` and `details` are its JSON body's. */
export class ApiError extends CliError {
  readonly status: number;
  readonly details?: readonly unknown[];
  constructor(status: number, request: string, error: string, details?: readonly unknown[]) {
    super(`${request} answered ${status}: ${error}`);
    this.status = status;
    if (details !== undefined) this.details = details;
  }
}

/** The API could not be reached at all (refused, reset, DNS, TLS). */
export class ConnectionError extends CliError {}

/** Input the CLI reads (an events file, a headers file) is not what it should be. */
export class InputError extends CliError {}
