/**
 * Channel codes and leads in the console (docs/console.md "Channels and leads"):
 * Debian Chromium against the `npm run dev` stack (web, worker, dev MongoDB server, private Redis,
 * WeCom sandbox). The storyline, in order:
 *   1. marketing creates an advisor's lead code in the channel form, sees its QR once the worker
 *      has made the WeCom contact way, and downloads the print PNG (a PNG of print size);
 *   2. a customer scans the code in the sandbox; the add is attributed to the channel (KPIs, page);
 *   3. a lead arrives through the API and stays unassigned (no routing rule matches its source);
 *      the manager sees it highlighted on the board, opens it (name shown, audited) and reassigns it;
 *   4. the advisor, on a 375-px phone, finds it under "my leads" with a tel: link and their lead
 *      code, marks it contacted and moves it to test drive.
 * Every page is watched for console errors, failed requests and ≥ 400 answers. Screenshots go to
 * artifacts/console-e2e/ (not committed). Skips when /usr/bin/chromium is absent.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../scripts/dev/dev-stack.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { PRINT_HEIGHT, PRINT_QR_PX, PRINT_WIDTH } from '../../src/console/src/pages/acquisition/print-size.js';
import {
  CHROMIUM,
  DEMO_MANAGER,
  DEMO_MARKETING,
  DESKTOP,
  adminApi as stackAdminApi,
  choose,
  grantMarketing,
  hasChromium,
  launchChromium,
  personContext as watchedContext,
  repoRoot,
  sandboxApi as stackSandboxApi,
  shot as photograph,
  signIn as signInThroughWeCom,
  startBrowserStack,
  until,
  untilAdvisors,
  type BrowserStack,
} from './browser.test-support.js';

if (!hasChromium) console.warn(`acquisition console e2e skipped: ${CHROMIUM} is missing`);

const shots = join(repoRoot, 'artifacts', 'console-e2e');
let running: BrowserStack | undefined;
let stack: DevStack | undefined;
let browser: Browser | undefined;

const MARKETING = DEMO_MARKETING;
const MANAGER = DEMO_MANAGER;
const ADVISOR = 'zhangwei';
const CHANNEL_NAME = '张伟线索码（e2e）';
const LEAD_NAME = '线索客户甲';
const LEAD_MOBILE = '13900007781';
const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };

const adminApi = <T>(method: string, path: string, body?: unknown) => stackAdminApi<T>(stack!, method, path, body);
const sandboxApi = <T>(method: string, path: string, body?: unknown) => stackSandboxApi<T>(stack!, method, path, body);
const problems: string[] = [];

interface ChannelRow {
  id: string;
  name: string;
  configId: string | null;
  qrCode: string | null;
  syncState: string;
  kind: string;
  advisors: string[];
}
interface LeadRow {
  id: string;
  advisorUserid: string | null;
  stage: string;
  firstContactAt: string | null;
}

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(shots, { recursive: true });
  running = await startBrowserStack('acquisition-console-e2e');
  stack = running.stack;
  browser = await launchChromium();
  await grantMarketing(stack, DEMO_CORP_ID, MARKETING);
  // Routing sends only car-maker DCC leads anywhere: a portal lead stays for the manager to assign.
  await adminApi('PUT', `/leads/settings?corpId=${DEMO_CORP_ID}`, {
    rules: [{ name: 'DCC only', sources: ['dcc'], advisors: ['liuyang'] }],
  });
  await untilAdvisors(stack, DEMO_CORP_ID, [MANAGER, ADVISOR]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const personContext = (options: typeof PHONE | typeof DESKTOP) =>
  watchedContext(browser!, problems, { ...options, acceptDownloads: true });

const signIn = (context: BrowserContext, userid: string, path: string) =>
  signInThroughWeCom(stack!, context, userid, path, { shots, problems });
const shot = (page: Page, name: string) => photograph(page, shots, name);
const channels = async () =>
  (await adminApi<{ channels: ChannelRow[] }>('GET', `/channels?corpId=${DEMO_CORP_ID}`)).channels;

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk's length and type). */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe.skipIf(!hasChromium)('channel codes and leads in Chromium', () => {
  let channel: ChannelRow | undefined;
  it('marketing creates a lead code in the form, sees its QR and downloads the print PNG', async () => {
    const context = await personContext(DESKTOP);
    const page = await signIn(context, MARKETING, '/channels');
    await page.locator('[data-test=channels-table]').waitFor();
    await page.click('[data-test=channel-new]');
    await page.locator('[data-test=channel-form] [data-test=channel-name]').waitFor();
    await page.fill(
      '[data-test=channel-form] [data-test=channel-name] input, input[data-test=channel-name]',
      CHANNEL_NAME,
    );
    await choose(page, '[data-test=channel-kind]', '线索码');
    await page.click('[data-test=channel-advisors]');
    await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: `(${ADVISOR})` }).click();
    await page.keyboard.press('Escape');
    await page.fill('[data-test=channel-campaign] input, input[data-test=channel-campaign]', '六月车展');
    await page.fill('[data-test=channel-cost] input', '300');
    await shot(page, 'acq-10-channel-form');
    await page.click('[data-test=channel-save]');
    await page.locator('[data-test=channel-form]').waitFor({ state: 'hidden' });

    channel = await until('the channel synced with WeCom', async () =>
      (await channels()).find((c) => c.name === CHANNEL_NAME && c.syncState === 'synced' && c.qrCode),
    );
    expect(channel).toMatchObject({ kind: 'lead', advisors: [ADVISOR] });
    const preview = page.locator('[data-test=qr-preview]').first();
    await preview.waitFor();
    await expect
      .poll(() => preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    await shot(page, 'acq-11-channels');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-test=qr-download]').first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.png$/);
    const file = join(shots, 'acq-12-channel-print.png');
    await download.saveAs(file);
    const size = pngSize(readFileSync(file));
    expect(size).toEqual({ width: PRINT_WIDTH, height: PRINT_HEIGHT });
    expect(size.width).toBeGreaterThanOrEqual(PRINT_QR_PX); // 10 cm at 300 dpi
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);

  it('a customer scans the code in the sandbox and the add is attributed to the channel', async () => {
    expect(channel?.configId, 'needs the channel of the previous step').toBeTruthy();
    await sandboxApi('POST', '/actions/scanContactWay', {
      corpId: DEMO_CORP_ID,
      configId: channel!.configId,
      customer: { name: '扫码客户' },
    });
    await until('the add counted for the channel', async () => {
      const kpis = await adminApi<{ channels: Array<{ channelId: string; adds: number }> }>(
        'GET',
        `/channels/kpis?corpId=${DEMO_CORP_ID}`,
      );
      return kpis.channels.find((k) => k.channelId === channel!.id && k.adds === 1);
    });
    const context = await personContext(DESKTOP);
    const page = await signIn(context, MARKETING, '/channels');
    await expect.poll(() => page.locator('[data-test=channel-adds]').first().textContent()).toBe('1');
    await shot(page, 'acq-13-channel-attributed');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  let leadId = '';
  it('a lead arrives through the API; the manager sees it unassigned on the board and reassigns it', async () => {
    const intake = await adminApi<{ results: Array<{ status: string; leadId?: string; id?: string }> }>(
      'POST',
      '/leads',
      { corpId: DEMO_CORP_ID, source: 'autohome', mobile: LEAD_MOBILE, name: LEAD_NAME, model: '新能源 SUV' },
    );
    expect(intake.results[0]?.status).toBe('created');
    const lead = await until('the lead stored', async () => {
      const { leads } = await adminApi<{ leads: Array<LeadRow & { name?: string }> }>(
        'GET',
        `/leads?corpId=${DEMO_CORP_ID}&source=autohome`,
      );
      return leads.find((l) => l.name === LEAD_NAME);
    });
    leadId = lead.id;
    expect(lead.advisorUserid).toBeNull();

    const context = await personContext(DESKTOP);
    const page = await signIn(context, MANAGER, '/leads');
    const card = page.locator(`[data-test=stage-new] [data-lead="${leadId}"]`);
    await card.waitFor();
    expect(await card.getAttribute('class')).toContain('unassigned');
    expect(await page.locator('[data-test=uncontacted]').textContent()).toContain(LEAD_NAME);
    await shot(page, 'acq-20-lead-board');

    await page.click(`[data-test=lead-open-${leadId}]`);
    await expect.poll(() => page.locator('[data-test=lead-name]').textContent()).toBe(LEAD_NAME);
    expect(await page.locator('[data-test=lead-mobile]').getAttribute('href')).toBe(`tel:${LEAD_MOBILE}`);
    await page.click('[data-test=lead-reassign-to]');
    await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: `(${ADVISOR})` }).click();
    await page.click('[data-test=lead-reassign]');
    await expect.poll(() => page.locator('[data-test=lead-advisor]').textContent()).toContain('张伟');
    await shot(page, 'acq-21-lead-reassigned');
    const after = await adminApi<LeadRow>('GET', `/leads/${leadId}?corpId=${DEMO_CORP_ID}`);
    expect(after.advisorUserid).toBe(ADVISOR);
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);

  it('the advisor works the lead on the phone: contacted, then test drive; their lead code is there to send', async () => {
    expect(leadId, 'needs the lead of the previous step').toBeTruthy();
    const context = await personContext(PHONE);
    const page = await signIn(context, ADVISOR, '/m/leads');
    const card = page.locator(`[data-test=my-lead][data-lead="${leadId}"]`);
    await card.waitFor();
    expect(await card.locator('[data-test=my-lead-call]').getAttribute('href')).toBe(`tel:${LEAD_MOBILE}`);
    await page.locator('[data-test=my-lead-code] [data-test=qr-preview]').waitFor();
    await shot(page, 'acq-30-my-leads');

    await card.locator('[data-test=my-lead-contacted]').click();
    await expect.poll(() => card.locator('[data-test=my-lead-stage]').textContent()).toBe('已联系');
    await card.locator('[data-test=my-lead-move]').click();
    await page.locator('[data-test=my-lead-to-test_drive]:visible').click();
    await expect.poll(() => card.locator('[data-test=my-lead-stage]').textContent()).toBe('试驾');
    await shot(page, 'acq-31-my-lead-test-drive');
    const lead = await adminApi<LeadRow>('GET', `/leads/${leadId}?corpId=${DEMO_CORP_ID}`);
    expect(lead.stage).toBe('test_drive');
    expect(lead.firstContactAt).not.toBeNull();
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);
});
