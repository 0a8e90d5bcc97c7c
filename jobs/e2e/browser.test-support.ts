import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { consoleBuildIsFresh, consoleSourceHash, stampConsoleBuild } from '../../scripts/dev/console-build.js';
import { startDevStack, type DevStack } from '../../scripts/dev/dev-stack.js';
import { createLogger } from '../../src/infra/logger.js';
import { freePort } from '../../src/testing/ports.js';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (the browser tests skip without it). */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** Flags for headless Chromium on this machine (no sandbox inside the container, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const repoRoot = resolve(import.meta.dirname, '../..');
const lockDir = join(repoRoot, 'node_modules/.cache/console-build.lock');

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The web serves dist/console, so a browser test needs it built from the current source. Test
 * files run in parallel: the build runs under a lock, one at a time, and is skipped when the
 * bundle already matches the source (the second file reuses the first one's bundle instead of
 * emptying the directory under a server that is serving it).
 */
export function buildConsoleOnce(): void {
  mkdirSync(join(repoRoot, 'node_modules/.cache'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // A lock left by a killed run is older than any build.
      const lock = statSync(lockDir, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 180_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`console build lock ${lockDir} held for 5 minutes`);
      sleepSync(250);
    }
  }
  try {
    // The same freshness stamp npm run dev uses (scripts/dev/console-build.ts).
    if (consoleBuildIsFresh()) return;
    const hash = consoleSourceHash();
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'src/console/vite.config.ts',
        '--logLevel',
        'warn',
      ],
      { cwd: repoRoot, stdio: 'inherit' },
    );
    stampConsoleBuild(hash);
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The whole bot as `npm run dev` runs it, on a private Redis and data directory, for a browser test. */
export interface BrowserStack {
  stack: DevStack;
  stop(): Promise<void>;
}

/** Builds the console (once), then starts the dev stack the browser signs in to; `stop` cleans up all of it. */
export async function startBrowserStack(name: string): Promise<BrowserStack> {
  buildConsoleOnce();
  const dataDir = mkdtempSync(join(tmpdir(), `scrm-${name}-`));
  const redis = await startPrivateRedis();
  const stack = await startDevStack({
    port: await freePort(),
    sandboxPort: 0,
    dataDir,
    redisUrl: redis.url,
    mongoPort: 0,
    persistMongo: false,
    logger: createLogger({ level: 'warn', name }),
    showProcessLogs: false,
    logLevel: 'warn',
  });
  return {
    stack,
    async stop() {
      await stack.stop();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The dev stack's admin API with its bootstrap token (what an operator script would do); 204 gives undefined. */
export async function adminApi<T>(stack: DevStack, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.botUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** The WeCom sandbox's control API (`/__sandbox/...`): scripted WeCom-side actions and call logs. */
export async function sandboxApi<T>(stack: DevStack, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.sandbox.url}/__sandbox${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls until `probe` gives something other than undefined; a timeout names what was awaited. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Debian Chromium, headless, with this machine's flags. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });

/** What a sign-in reports on failure: where screenshots go and the problems the run has seen so far. */
export interface SignInOptions {
  shots: string;
  problems: readonly string[];
  /** When given, the sign-in page and the sandbox's WeCom page are photographed as `<prefix>-….png`. */
  shotPrefix?: string;
}

/** Signs in through the sandbox's WeCom QR page as `userid`, starting from a console path. */
export async function signIn(
  stack: DevStack,
  context: BrowserContext,
  userid: string,
  path: string,
  { shots, problems, shotPrefix }: SignInOptions,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${stack.publicUrl}/console${path}`);
  await page.waitForURL(/\/console\/login\?next=/).catch(async (err: unknown) => {
    await page.screenshot({ path: join(shots, `failed-sign-in-${userid}.png`), fullPage: true });
    throw new Error(
      `${userid}: ${page.url()} did not go to sign-in (${(err as Error).message.split('\n')[0]}); problems so far: ${JSON.stringify(problems)}`,
    );
  });
  await page.locator('[data-test=wecom-sign-in]:not([disabled])').waitFor();
  if (shotPrefix) await page.screenshot({ path: join(shots, `${shotPrefix}-sign-in.png`), fullPage: true });
  await page.click('[data-test=wecom-sign-in]');
  await page.waitForURL(/\/wwlogin\/sso\/login/);
  if (shotPrefix) await page.screenshot({ path: join(shots, `${shotPrefix}-wecom-sandbox.png`), fullPage: true });
  await page.click(`a:has-text("(${userid})")`);
  await page.waitForURL((url) => url.pathname === `/console${path.split('?')[0]}`);
  return page;
}

/** Picks an Element Plus select option by its visible text (the dropdown is teleported to body). */
export async function choose(page: Page, select: string, option: string): Promise<void> {
  await page.click(select);
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click();
}

/**
 * Records every problem a page shows into `problems`: page errors, console errors, failed requests
 * and answers ≥ 400. Before sign-in /console/auth/me answers 401 by design, and browsers ask for
 * /favicon.ico: neither counts; nor do answers whose URL matches one of `expected` (a refusal a
 * step provokes on purpose).
 */
export function watchPage(page: Page, problems: string[], expected: readonly RegExp[] = []): void {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every ≥ 400 answer as "Failed to load resource"; the response handler judges those.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      problems.push(`console error: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => {
    // A navigation away cancels the previous page's pending requests (net::ERR_ABORTED): not a failure.
    if (req.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    const url = res.url();
    if ((res.status() === 401 && /\/console\/auth\/me$/.test(url)) || /favicon/.test(url)) return;
    if (expected.some((p) => p.test(url))) return;
    problems.push(`${res.status()} ${res.request().method()} ${url}`);
  });
}

/** The demo dealer's people the browser tests sign in as: 李娜 is given the marketing role, 王强 leads the sales team. */
export const DEMO_MARKETING = 'lina';
export const DEMO_MANAGER = 'wangqiang';
/** A desktop browser window. */
export const DESKTOP = { viewport: { width: 1280, height: 860 } };

/** Gives `userid` the console's marketing role in `corpId` (the corp settings' `consoleRoles`). */
export async function grantMarketing(stack: DevStack, corpId: string, userid: string): Promise<void> {
  await adminApi(stack, 'PATCH', `/corps/${corpId}/settings`, {
    consoleRoles: { admins: [], dealerAdmins: [], marketing: [userid], oem: [], analysts: [] },
  });
}

/** Waits until the bot's advisor directory lists every one of `userids` (the member sync has run). */
export async function untilAdvisors(stack: DevStack, corpId: string, userids: readonly string[]): Promise<void> {
  await until('the sales team in the advisor directory', async () => {
    const { advisors } = await adminApi<{ advisors: Array<{ userid: string }> }>(
      stack,
      'GET',
      `/advisors?corpId=${corpId}`,
    );
    return userids.every((u) => advisors.some((a) => a.userid === u)) ? true : undefined;
  });
}

/** A browser context as one of the dealer's people (zh-CN, dealer time), every page watched into `problems`. */
export async function personContext(
  browser: Browser,
  problems: string[],
  options: BrowserContextOptions = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({ ...options, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.on('page', (page) => watchPage(page, problems));
  return context;
}

/** Waits until no loading mask or skeleton shows (the shared machine is slow), then photographs the whole page. */
export async function shot(page: Page, shots: string, name: string): Promise<void> {
  await expect.poll(() => page.locator('.el-loading-mask:visible, .el-skeleton').count(), { timeout: 15_000 }).toBe(0);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
