/**
 * Every link in README.md, CHANGELOG.md and docs/*.md leads somewhere inside the repository: a
 * relative link names a file that exists (and its #anchor a heading of that file), and nothing
 * points outside: no http(s) link but to loopback examples, no path that climbs out of the root.
 * A clone of the repository is all a reader has.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from '../support/runtime.ts';
import { headingAnchors, linksOf, type MarkdownLink } from './markdown.ts';

const DOCS = ['README.md', 'CHANGELOG.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Loopback examples (`curl localhost:3000/...`) are not links out of the repository. */
const LOOPBACK = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/;

/** What is wrong with one link of `file`, or undefined when it resolves inside the repository. */
function problem(file: string, { target }: MarkdownLink): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    return LOOPBACK.test(target) ? undefined : 'points outside the repository';
  }
  if (target.startsWith('//')) return 'points outside the repository';
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath);
  const resolved = path === '' ? join(REPO_ROOT, file) : path.startsWith('/') ? join(REPO_ROOT, path) : resolve(REPO_ROOT, dirname(file), path);
  const inside = relative(REPO_ROOT, resolved);
  if (inside.startsWith('..') || inside.split(sep).includes('..')) return 'climbs out of the repository';
  if (!existsSync(resolved)) return `no file ${inside}`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return `#${anchor} on a file that is not Markdown`;
  return headingAnchors(readFileSync(resolved, 'utf8')).has(anchor) ? undefined : `no heading #${anchor} in ${inside}`;
}

describe('links in the Markdown', () => {
  it('reads the README, the CHANGELOG and every docs/*.md', () => {
    expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/api.md', 'docs/receivers.md', 'docs/seeds.md', 'docs/deploy.md', 'docs/operations.md']));
  });

  it.each(DOCS)('%s: every link resolves inside the repository', (file) => {
    const links = linksOf(readFileSync(join(REPO_ROOT, file), 'utf8'));
    const broken = links.map((link) => ({ link, why: problem(file, link) })).filter((b) => b.why).map((b) => `${file}:${b.link.line} ${b.link.target}: ${b.why}`);
    expect(broken).toEqual([]);
  });

  it('the README links every document in docs/', () => {
    const readmeTargets = new Set(linksOf(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]));
    const docs = readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md') || f === 'openapi.json');
    expect(docs.filter((f) => !readmeTargets.has(`docs/${f}`))).toEqual([]);
  });
});

describe('the link checker', () => {
  const md = '# Top\n\n## Retry ladder (AWS)\n\n## Retry ladder (AWS)\n\n```md\n[not a link](nowhere.md)\n```\nSee `[code](nope.md)` and [ok](#retry-ladder-aws-1).\n';

  it('finds inline, reference, autolink and bare links outside code, with GitHub anchors', () => {
    const text = `${md}[a](docs/x.md#y) ![img](pic.png) <https://example.com/a> see https://example.org/b.\n[ref]: ../up.md\n`;
    expect(linksOf(text).map((l) => l.target)).toEqual(['#retry-ladder-aws-1', 'docs/x.md#y', 'pic.png', 'https://example.com/a', 'https://example.org/b', '../up.md']);
    expect([...headingAnchors(md)]).toEqual(['top', 'retry-ladder-aws', 'retry-ladder-aws-1']);
  });

  it('refuses links out of the repository and missing files or headings', () => {
    const at = (target: string) => problem('docs/api.md', { target, line: 1 });
    expect(at('https://example.com/')).toBe('points outside the repository');
    expect(at('//example.com/x')).toBe('points outside the repository');
    expect(at('http://localhost:3000/healthz')).toBeUndefined();
    expect(at('http://127.0.0.1:9000/hook')).toBeUndefined();
    expect(at('../../shared/CONTRACT.md')).toBe('climbs out of the repository');
    expect(at('../README.md')).toBeUndefined();
    expect(at('missing.md')).toBe('no file docs/missing.md');
    expect(at('../README.md#no-such-heading')).toBe('no heading #no-such-heading in README.md');
  });
});
