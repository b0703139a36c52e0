/**
 * What the CLI writes: aligned tables and short sentences for people on stdout, JSON for
 * scripts (`--json`), and a progress bar on stderr only when stderr is a terminal, so piped or
 * captured output never holds control characters.
 */

export interface Io {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
  readonly env: NodeJS.ProcessEnv;
}

export const printLine = (io: Io, text = ''): void => {
  io.stdout.write(text + '\n');
};

export const printJson = (io: Io, value: unknown): void => {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
};

/** One JSON value per line, for streams a script reads line by line (`deliveries ls --follow --json`). */
export const printJsonLine = (io: Io, value: unknown): void => {
  io.stdout.write(JSON.stringify(value) + '\n');
};

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Longer cells are cut with an ellipsis. */
  readonly maxWidth?: number;
}

/** Cuts text longer than `max` with an ellipsis. */
export const truncate = (text: string, max: number | undefined): string =>
  max !== undefined && text.length > max ? text.slice(0, Math.max(0, max - 1)) + '…' : text;

/** Rows under a header line, each column as wide as its widest cell. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => truncate(c.value(row).replace(/\s+/g, ' '), c.maxWidth)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function printTable<T>(io: Io, rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
  printLine(io, rows.length === 0 ? empty : formatTable(rows, columns));
}

/** `2026-03-15T10:30:01.123Z` -> `2026-03-15 10:30:01` (UTC, as the API answers it). */
export const shortTime = (iso: string | undefined): string => (iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '');

/**
 * `label [########..........]  120/250`: redrawn in place on stderr. Draws nothing when stderr is
 * not a terminal. Hand-written (a dozen lines) rather than a dependency such as cli-progress:
 * one bar, redrawn a few times per command.
 */
export class ProgressBar {
  private readonly io: Io;
  private readonly label: string;
  private readonly total: number;
  private readonly enabled: boolean;
  private drawn = false;
  constructor(io: Io, label: string, total: number) {
    this.io = io;
    this.label = label;
    this.total = total;
    this.enabled = io.stderr.isTTY === true && total > 0;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const width = Math.max(10, Math.min(40, (this.io.stderr.columns ?? 80) - this.label.length - 2 * String(this.total).length - 8));
    const filled = Math.round((Math.min(done, this.total) / this.total) * width);
    this.io.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}`);
    this.drawn = true;
  }

  /** Ends the bar's line, so what follows starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.io.stderr.write('\n');
    this.drawn = false;
  }
}

/** One `details` entry of an API error: `{"path", "message"}` -> `path: message`; anything else as JSON. */
export function formatDetail(detail: unknown): string {
  if (typeof detail === 'object' && detail !== null && 'message' in detail) {
    const { path, message } = detail as { path?: unknown; message: unknown };
    return `${typeof path === 'string' ? `${path}: ` : ''}${String(message)}`;
  }
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}
