/**
 * The console in a real browser (issue 9): Debian Chromium (driven by playwright-core) against
 * the `npm run dev` stack (real web and worker processes serving the freshly built console, the
 * dev MongoDB server, a private Redis, the WeCom sandbox). An advisor signs in through the
 * sandbox's QR sign-in page on a 375-px phone viewport and opens /console/m/tasks.
 * Screenshots go to artifacts/console-e2e/ (not committed). Skips when /usr/bin/chromium is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../scripts/dev/dev-stack.js';
import { createLogger } from '../../src/infra/logger.js';
import { freePort } from '../../src/testing/ports.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/testing/redis-server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`console e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'console-e2e');
const dataDir = mkdtempSync(join(tmpdir(), 'scrm-console-'));
const profileDir = mkdtempSync(join(tmpdir(), 'scrm-chromium-'));
let redis: PrivateRedis | undefined;
let stack: DevStack | undefined;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  // The web serves dist/console: build it from the current source so the test never sees a stale bundle.
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'src/console/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  mkdirSync(shots, { recursive: true });
  redis = await startPrivateRedis();
  stack = await startDevStack({
    port: await freePort(), sandboxPort: 0, dataDir, redisUrl: redis.url, mongoPort: 0, persistMongo: false,
    logger: createLogger({ level: 'warn', name: 'console-e2e' }), showProcessLogs: false, logLevel: 'warn',
  });
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 375, height: 812 },
    isMobile: true,
    locale: 'zh-CN',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('console in Chromium', () => {
  it('an advisor signs in through WeCom (sandbox) on a phone and sees their tasks', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    // Before sign-in /console/auth/me answers 401 by design; browsers also ask for /favicon.ico.
    page.on('response', (r) => { if (r.status() >= 400 && !/\/console\/auth\/me$|favicon/.test(r.url())) errors.push(`${r.status()} ${r.url()}`); });
    await page.goto(`${stack!.botUrl}/console/m/tasks`);
    await page.waitForURL(/\/console\/login\?next=/);
    await page.locator('[data-test=wecom-sign-in]:not([disabled])').waitFor();
    await page.screenshot({ path: join(shots, '01-sign-in.png'), fullPage: true });

    await page.click('[data-test=wecom-sign-in]');
    await page.waitForURL(/\/wwlogin\/sso\/login/);
    await page.screenshot({ path: join(shots, '02-wecom-sandbox.png'), fullPage: true });
    await page.click('a:has-text("(zhangwei)")');

    await page.waitForURL(/\/console\/m\/tasks$/);
    await page.locator('[data-test=my-tasks]').waitFor();
    await page.locator('[data-test=task-card], .el-empty').first().waitFor();
    await page.screenshot({ path: join(shots, '03-my-tasks.png'), fullPage: true });
    expect(await page.locator('h3').first().textContent()).toBe('我的任务');
    const me = await page.evaluate(async () => (await fetch('/console/auth/me')).json() as Promise<{ role: string; userid: string }>);
    expect(me).toMatchObject({ role: 'advisor', userid: 'zhangwei' });

    await page.click('[data-test=locale]');
    expect(await page.locator('h3').first().textContent()).toBe('My tasks');
    await page.screenshot({ path: join(shots, '04-my-tasks-en.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);
});
