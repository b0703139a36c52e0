/**
 * What the one-machine runtime prints when its start ends: the banner of a runtime that is
 * running, or the line of one that could not start.
 */

export interface RunningBanner {
  readonly baseUrl: string;
  readonly tenant: string;
  readonly apiKey: string;
  readonly adminKey: string;
  readonly dataDir: string;
  /** What the start took over from the last process: messages it had taken, first attempts it held. */
  readonly resumed: { readonly events: number; readonly deliveries: number; readonly firstAttempts: number };
  readonly allowPrivateTargets: boolean;
}

export function runningBanner(b: RunningBanner): string {
  const lines = [
    `Hookline is running at ${b.baseUrl}`,
    `  API key (tenant "${b.tenant}"): ${b.apiKey}`,
    `  Admin key (/admin/v1/*):            ${b.adminKey}`,
    `  Data: ${b.dataDir}   OpenAPI: ${b.baseUrl}/openapi.json`,
  ];
  const { resumed } = b;
  if (resumed.events + resumed.deliveries > 0) {
    lines.push(`  Resumed ${resumed.events} event(s) and ${resumed.deliveries} delivery(ies) the last run had taken and not finished`);
  }
  if (resumed.firstAttempts > 0) {
    lines.push(`  Queued again ${resumed.firstAttempts} first attempt(s) of pending deliveries (held in memory by the last run)`);
  }
  if (b.allowPrivateTargets) {
    lines.push('  Warning: webhook URLs may point at loopback and private addresses (HOOKLINE_ALLOW_PRIVATE_TARGETS=true).');
  }
  return lines.join('\n') + '\n';
}

/** Start failures the user can act on: their message says what to do, without a stack. */
const USER_ERRORS = new Set([
  'SettingsError',
  'EarlierDataFormatError',
  'DataDirInUseError',
  'DataDirUnusableError',
  'DatabaseOpenError',
  'DatabaseVersionError',
  'CatalogueError',
  'CredentialsFileError',
]);

/** The line a start that failed prints: the message of a failure the user can act on, else the stack. */
export function startFailure(err: unknown): string {
  const text = err instanceof Error ? (USER_ERRORS.has(err.name) ? err.message : err.stack) : String(err);
  return `Hookline failed to start: ${text}\n`;
}
