/**
 * Real Chromium for the portal tests: Debian's `chromium` driven by playwright-core, with a fresh
 * profile and nothing of its own on the network (no updates, sync or QUIC). Every request a page
 * makes is watched: one for any host but 127.0.0.1 is aborted and recorded, and so is every
 * Referer header, console error and uncaught exception.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../support/runtime.ts';

export const CHROMIUM = process.env['HOOKLINE_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-results');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  /** A new tab, watched (see Watch). */
  open(): Promise<{ page: Page; watch: Watch }>;
  close(): Promise<void>;
}

export interface Watch {
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: string[];
  /** Every URL the page asked for. */
  readonly urls: string[];
  /** URLs for any host other than 127.0.0.1 (aborted). */
  readonly offHost: string[];
  /** Every Referer header sent, with its request's URL. */
  readonly referers: { url: string; referer: string }[];
}

export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'hookline-chromium-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  // A persistent context is how playwright takes a user-data-dir of our own: a fresh one each run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
    // The same clock and language as the runtime's tests, whatever the machine's.
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  // Nothing leaves loopback: anything else is aborted before Chromium sends it.
  const offHost: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    offHost.push(url.href);
    return route.abort('blockedbyclient');
  });
  return {
    context,
    async open() {
      const page = await context.newPage();
      const watch: Watch = { errors: [], urls: [], offHost, referers: [] };
      page.on('console', (m) => {
        if (m.type() === 'error') watch.errors.push(m.text());
      });
      page.on('pageerror', (e) => watch.errors.push(`uncaught: ${e.message}`));
      page.on('request', (req) => {
        watch.urls.push(req.url());
        const referer = req.headers()['referer'];
        if (referer !== undefined) watch.referers.push({ url: req.url(), referer });
      });
      // Confirmations (delete, rotate) are accepted, as a user would.
      page.on('dialog', (d) => void d.accept());
      return { page, watch };
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-results/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
