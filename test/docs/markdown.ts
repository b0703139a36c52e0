/**
 * Just enough Markdown reading for the docs tests: fenced code blocks, a table under a heading,
 * links, and the anchors GitHub gives headings. Text inside fenced blocks is never read as
 * Markdown (a `[x](y)` in a code sample is not a link).
 */

/** The lines of `markdown` outside fenced code blocks, each with its 0-based line number. */
export function proseLines(markdown: string): { line: string; index: number }[] {
  const out: { line: string; index: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((line, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) fence = marker;
    else if (fence !== undefined && marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
    else if (fence === undefined) out.push({ line, index });
  });
  return out;
}

/**
 * The fenced block right after the HTML comment `<!-- <marker> ... -->` (blank lines between are
 * allowed); throws when there is none, so a renamed marker fails the test that needs it.
 */
export function codeBlockAfter(markdown: string, marker: string): { language: string; code: string } {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(`<!-- ${marker}`));
  if (at < 0) throw new Error(`no <!-- ${marker} --> comment`);
  let i = at + 1;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const open = /^(`{3,})(\S*)\s*$/.exec(lines[i] ?? '');
  if (!open) throw new Error(`<!-- ${marker} --> is not followed by a fenced code block`);
  const end = lines.findIndex((l, j) => j > i && l.trim() === open[1]);
  if (end < 0) throw new Error(`the code block after <!-- ${marker} --> is not closed`);
  return { language: open[2]!, code: lines.slice(i + 1, end).join('\n') + '\n' };
}

/** The text of a table cell: `code` spans lose their backticks (their content is kept verbatim). */
const cellText = (cell: string): string => {
  const trimmed = cell.trim();
  const code = /^(`+)(.*)\1$/.exec(trimmed);
  return code ? code[2]! : trimmed;
};

/**
 * The first table after the heading whose text is `heading`, as one record per row keyed by the
 * header cells (header cells lose their backticks too). Cells must not hold `|`.
 */
export function tableUnder(markdown: string, heading: string): Record<string, string>[] {
  const lines = proseLines(markdown).map((l) => l.line);
  const at = lines.findIndex((l) => /^#{1,6}\s/.test(l) && l.replace(/^#+\s*/, '').trim() === heading);
  if (at < 0) throw new Error(`no heading "${heading}"`);
  const start = lines.findIndex((l, i) => i > at && l.trim().startsWith('|'));
  if (start < 0) throw new Error(`no table under "${heading}"`);
  const rowsOf = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map(cellText);
  const header = rowsOf(lines[start]!);
  const rows: Record<string, string>[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
    const cells = rowsOf(lines[i]!);
    if (cells.length !== header.length) throw new Error(`table under "${heading}": row ${i + 1} has ${cells.length} cells, the header ${header.length}`);
    rows.push(Object.fromEntries(header.map((h, j) => [h, cells[j]!])));
  }
  return rows;
}

/**
 * GitHub's anchor of a heading: lower case, markup and punctuation removed (hyphens and
 * underscores kept), spaces to hyphens; repeated headings get `-1`, `-2`...
 */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { line } of proseLines(markdown)) {
    const match = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) continue;
    const text = match[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(text) ?? 0;
    seen.set(text, count + 1);
    anchors.add(count === 0 ? text : `${text}-${count}`);
  }
  return anchors;
}

export interface MarkdownLink {
  readonly target: string;
  /** 1-based line number. */
  readonly line: number;
}

/**
 * Every link target in the prose: inline `[text](target)` and `![alt](target)`, reference
 * definitions `[label]: target`, autolinks `<https://...>` and bare `http(s)://` URLs (which
 * GitHub turns into links). Inline code spans are skipped.
 */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { line, index } of proseLines(markdown)) {
    const text = line.replace(/(`+)[^`]*?\1/g, '');
    const add = (target: string) => links.push({ target, line: index + 1 });
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) add(m[1]!);
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(text);
    if (definition) add(definition[1]!);
    for (const m of text.matchAll(/<((?:https?|ftp|mailto):[^>\s]+)>/g)) add(m[1]!);
    // Bare URLs not already part of an inline link or an autolink.
    const stripped = text.replace(/\]\([^)]*\)/g, ']').replace(/<[^>]*>/g, '');
    for (const m of stripped.matchAll(/\bhttps?:\/\/[^\s)>\]"'`]+/g)) add(m[0].replace(/[.,;:!?]+$/, ''));
  }
  return links;
}
