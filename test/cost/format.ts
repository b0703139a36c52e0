/** Plain-text tables for the cost and capacity reports. */

export type Align = 'left' | 'right';

/** A table: a header row, a rule, then the rows, each column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) => ((align[i] ?? 'left') === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (r: readonly string[]) => r.map((c, i) => cell(c ?? '', i)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const usd = (n: number, digits = 2): string => (Number.isFinite(n) ? `$${n.toFixed(digits)}` : 'n/a');

/** A quantity with enough significant digits for a per-unit figure (0.0125, 1.5, 19). */
export function qty(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 1) return n.toFixed(2).replace(/\.?0+$/, '');
  return n.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

export const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(n < 0.1 ? 1 : 0)}%` : 'n/a');

export const heading = (title: string): string => `\n${title}\n${'='.repeat(title.length)}`;
