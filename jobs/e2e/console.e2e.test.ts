/**
 * The console in a real browser (docs/console.md): Debian Chromium (driven by playwright-core) against
 * the `npm run dev` stack (real web and worker processes serving the freshly built console, the
 * dev MongoDB server, a private Redis, the WeCom sandbox). The storyline, in order:
 *   1. a new sales team (a manager and an advisor) joins through the contact sync, and an admin
 *      (bootstrap token) assigns the marketing and dealer-admin roles and the corp's quiet hours on
 *      the settings page;
 *   2. marketing signs in through the sandbox's WeCom sign-in, builds a delivery-welcome rule in
 *      the form (customer.added on a channel state, a welcome text, a follow-up), previews, saves
 *      and enables it;
 *   3. a customer adds the advisor through that channel in the sandbox; the manager finds the
 *      customer and the planned follow-up in the console;
 *   4. the shared clock moves to the follow-up's due time and the sweep runs; the advisor, on a
 *      375-px phone viewport, completes the task on /console/m/tasks;
 *   5. the manager sees it done on /console/tasks;
 *   6. a dealer admin types another corp's settings URL by hand and is refused (API 404, a page
 *      message).
 * Every page is watched for console errors, failed requests and ≥ 400 answers (only the
 * deliberate cross-corp refusal and the by-design 401 of /console/auth/me before sign-in are
 * expected). Screenshots of each main page go to artifacts/console-e2e/ (not committed).
 * Skips when /usr/bin/chromium is absent.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../scripts/dev/dev-stack.js';
import {
  CHROMIUM,
  hasChromium,
  repoRoot,
  startBrowserStack,
  adminApi as stackAdminApi,
  sandboxApi as stackSandboxApi,
  until,
  launchChromium,
  choose,
  signIn as signInThroughWeCom,
  watchPage,
  type BrowserStack,
} from './browser.test-support.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { dayjs } from '../../src/infra/clock.js';

if (!hasChromium) console.warn(`console e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const shots = join(repoRoot, 'artifacts', 'console-e2e');
let running: BrowserStack | undefined;
let stack: DevStack | undefined;
let browser: Browser | undefined;

/** A second dealer, only in the bot: the corp whose URL the dealer admin types by hand. */
const OTHER_CORP = 'wwOtherDealer0002';
const CHANNEL = 'delivery_e2e_console';
const RULE_NAME = '交车欢迎（控制台 e2e）';
const WELCOME_TEXT = '恭喜提车！我是您的专属顾问，用车有问题随时找我。';
const FOLLOW_UP_TITLE = '交车次日关怀电话（e2e）';
const CUSTOMER_NAME = '测试车主控制台';
/** The story's sales manager and advisor: they join 销售部 at the start (see the settings step). */
const MANAGER = 'zhaomin';
const ADVISOR = 'xiaoma';

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 860 } };

const adminApi = <T>(method: string, path: string, body?: unknown) => stackAdminApi<T>(stack!, method, path, body);
const sandboxApi = <T>(method: string, path: string, body?: unknown) => stackSandboxApi<T>(stack!, method, path, body);

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(shots, { recursive: true });
  running = await startBrowserStack('console-e2e');
  stack = running.stack;
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** Problems seen by every page of the run; asserted empty at the end and after each step. */
const problems: string[] = [];
/** Answers ≥ 400 that a step provokes on purpose (the cross-corp URL), by URL pattern. */
const expectedFailures: RegExp[] = [];

/** A fresh browser context (own cookies: one person) whose pages report every problem. */
async function personContext(options: typeof PHONE | typeof DESKTOP): Promise<BrowserContext> {
  const context = await browser!.newContext({ ...options, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.on('page', (page) => watchPage(page, problems, expectedFailures));
  return context;
}

/** Signs in through the sandbox's WeCom QR page as `userid` (browser.test-support.ts). */
const signIn = (context: BrowserContext, userid: string, path: string, shotPrefix?: string): Promise<Page> =>
  signInThroughWeCom(stack!, context, userid, path, { shots, problems, shotPrefix });
/** Waits until no Element Plus loading mask or skeleton is left, so a screenshot shows the page, not a spinner. */
const settled = (page: Page) =>
  expect.poll(() => page.locator('.el-loading-mask, .el-skeleton').count(), { timeout: 15_000 }).toBe(0);
const shot = async (page: Page, name: string, fullPage = true) => {
  await settled(page);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
};

describe.skipIf(!hasChromium)('console in Chromium', () => {
  it('an advisor signs in through WeCom (sandbox) on a phone and sees their tasks', async () => {
    const context = await personContext(PHONE);
    const page = await signIn(context, 'zhangwei', '/m/tasks', '01');
    await page.locator('[data-test=my-tasks]').waitFor();
    await page.locator('[data-test=task-card], .el-empty').first().waitFor();
    await shot(page, '03-my-tasks');
    expect(await page.locator('h3').first().textContent()).toBe('我的任务');
    const me = await page.evaluate(
      async () => (await fetch('/console/auth/me')).json() as Promise<{ role: string; userid: string }>,
    );
    expect(me).toMatchObject({ role: 'advisor', userid: 'zhangwei' });

    await page.click('[data-test=locale]');
    expect(await page.locator('h3').first().textContent()).toBe('My tasks');
    await shot(page, '04-my-tasks-en');
    await page.click('[data-test=locale]'); // back to Chinese: the choice is remembered per browser
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('an admin assigns the console roles on the settings page', async () => {
    // A new sales team joins 销售部: its leader and an advisor reporting to them. The contact sync
    // tells the bot (create_user), so both are in the directory the console's scoping reads.
    await sandboxApi('POST', '/actions/changeMember', {
      corpId: DEMO_CORP_ID,
      change: 'create_user',
      userid: MANAGER,
      name: '赵敏',
      department: [2],
      isLeaderInDept: [1],
      position: '销售经理',
    });
    await sandboxApi('POST', '/actions/changeMember', {
      corpId: DEMO_CORP_ID,
      change: 'create_user',
      userid: ADVISOR,
      name: '马晓',
      department: [2],
      directLeader: [MANAGER],
      position: '销售顾问',
    });
    await until('the new team in the advisor directory', async () => {
      const { advisors } = await adminApi<{ advisors: Array<{ userid: string }> }>(
        'GET',
        `/advisors?corpId=${DEMO_CORP_ID}`,
      );
      return [MANAGER, ADVISOR].every((u) => advisors.some((a) => a.userid === u)) ? true : undefined;
    });
    await adminApi('POST', '/corps', {
      corpId: OTHER_CORP,
      displayName: '另一家经销商（演示）',
      agentId: 1000002,
      secret: 'other-dealer-secret',
      callbackToken: 'OtherToken1',
      callbackAesKey: 'o'.repeat(43),
    });
    const context = await personContext(DESKTOP);
    const page = await context.newPage();
    await page.goto(`${stack!.publicUrl}/console/settings/${DEMO_CORP_ID}`);
    await page.waitForURL(/\/console\/login\?next=/);
    await page.locator('input[type=password]').fill(stack!.adminToken);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/console/settings/${DEMO_CORP_ID}`);
    const form = page.locator('[data-test=settings-form]');
    await form.waitFor();
    // Secrets are write-only: the page knows only whether each is set.
    await expect
      .poll(() => page.locator('[data-test=secret-secret] [data-test=secret-state]').textContent())
      .toBe('已设置');
    expect(await page.content()).not.toContain('sandbox-demo-secret');
    for (const [list, userid] of [
      ['marketing', 'lina'],
      ['dealerAdmins', 'chenjing'],
    ] as const) {
      await page.click(`[data-test=settings-roles-${list}]`);
      await page.keyboard.type(userid);
      await page.keyboard.press('Enter');
      await page.keyboard.press('Escape');
    }
    // The corp's quiet hours: campaign rules without their own follow them.
    await page.fill('[data-test=settings-quiet-end]', '08:30');
    await page.click('[data-test=settings-save]');
    await page.locator('.el-message--success').waitFor();
    await shot(page, '10-settings');
    const saved = await adminApi<{
      consoleRoles: { marketing: string[]; dealerAdmins: string[] };
      tasks: { quietHours: unknown };
    }>('GET', `/corps/${DEMO_CORP_ID}/settings`);
    expect(saved.consoleRoles).toMatchObject({ marketing: ['lina'], dealerAdmins: ['chenjing'] });
    expect(saved.tasks.quietHours).toEqual({ start: '21:00', end: '08:30' });
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  let ruleSaved = false;
  it('marketing builds a delivery-welcome rule in the form, previews it, saves and enables it', async () => {
    const context = await personContext(DESKTOP);
    const page = await signIn(context, 'lina', '/campaigns');
    await page.locator('[data-test=campaigns]').waitFor();
    await shot(page, '20-campaigns');
    await page.goto(`${stack!.publicUrl}/console/campaigns/new`);
    await page.locator('[data-test=rule-name]').waitFor();
    await page.fill('[data-test=rule-name]', RULE_NAME);
    await page.fill('[data-test=rule-priority] input, input[data-test=rule-priority]', '900');
    await page.keyboard.press('Tab');
    await choose(page, '[data-test=rule-trigger]', '客户添加');
    await page.click('[data-test=rule-trigger-state-mode-equals]');
    await page.fill('[data-test=rule-trigger-state]', CHANNEL);
    await page.click('[data-test=rule-add-action-welcome]');
    await page.fill('[data-test=rule-action-0-text]', WELCOME_TEXT);
    await page.click('[data-test=rule-add-action-follow_up]');
    await page.fill('[data-test=rule-action-1-title]', FOLLOW_UP_TITLE);
    await page.fill('[data-test=rule-action-1-talk-track]', '{客户}您好，我是{顾问}，提车后一切都好吗？');
    await page.fill(
      '[data-test=rule-action-1-due-in] input[role=spinbutton], [data-test=rule-action-1-due-in] .el-input-number input',
      '1',
    );
    await page.keyboard.press('Tab');
    await page.fill('[data-test=rule-action-1-at]', '10:00');
    await shot(page, '21-campaign-form');
    // For the README: the trigger and both actions, cut out of the whole page.
    const scrollY = await page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY); // bounding boxes are viewport-relative
    const top = (await page.locator('[data-test=rule-trigger]').boundingBox())!.y + scrollY - 60;
    const last = (await page.locator('[data-test=rule-action-1]').boundingBox())!;
    await page.screenshot({
      path: join(shots, 'readme-campaign-form.png'),
      fullPage: true,
      clip: { x: 0, y: top, width: DESKTOP.viewport.width, height: last.y + scrollY + last.height - top + 16 },
    });

    await page.click('[data-test=rule-preview]');
    const count = page.locator('[data-test=rule-preview-count]');
    await count.waitFor();
    expect(await count.textContent()).toMatch(/\d/);
    await shot(page, '22-campaign-preview');

    await page.click('[data-test=rule-save]');
    await page.locator('[data-test=rule-enable]').waitFor();
    await page.click('[data-test=rule-enable]');
    const rule = await until(
      'the saved, enabled rule',
      async () => {
        const { rules } = await adminApi<{
          rules: Array<{ id: string; name: string; enabled: boolean; scope: string }>;
        }>('GET', '/rules');
        return rules.find((r) => r.name === RULE_NAME && r.enabled);
      },
      15_000,
    );
    expect(rule.scope).toBe(DEMO_CORP_ID);
    await shot(page, '23-campaign-saved');
    ruleSaved = true;
    await context.close();
    expect(problems).toEqual([]);
  }, 180_000);

  let customerId = '';
  it('a customer added through the channel is welcomed; the manager finds them and the planned follow-up', async () => {
    expect(ruleSaved, 'needs the rule of the previous step').toBe(true);
    await sandboxApi('POST', '/actions/addCustomer', {
      corpId: DEMO_CORP_ID,
      userid: ADVISOR,
      customer: { name: CUSTOMER_NAME },
      state: CHANNEL,
    });
    await until('our welcome text in WeCom', async () => {
      const { corps } = await sandboxApi<{ corps: Array<{ welcomes: Array<{ text?: string }> }> }>(
        'GET',
        `/world?corpId=${DEMO_CORP_ID}`,
      );
      return corps[0]?.welcomes.some((w) => w.text?.includes(WELCOME_TEXT)) ? true : undefined;
    });
    await until('the customer stored by the bot', async () => {
      const { customers } = await adminApi<{ customers: unknown[] }>('POST', '/customers/search', {
        corpId: DEMO_CORP_ID,
        by: 'name',
        q: CUSTOMER_NAME,
      });
      return customers.length > 0 ? true : undefined;
    });

    const context = await personContext(DESKTOP);
    const page = await signIn(context, MANAGER, '/customers');
    await page.click('[data-test=customers-by-name]');
    await page.fill('[data-test=customers-search] [data-test=customers-q]', CUSTOMER_NAME);
    await page.keyboard.press('Enter');
    const link = page.locator('[data-test=customer-link]', { hasText: CUSTOMER_NAME });
    await link.waitFor();
    await shot(page, '29-customers-search');
    await link.click();
    const profile = page.locator('[data-test=customer-profile]');
    await profile.waitFor();
    await expect.poll(() => profile.textContent(), { timeout: 15_000 }).toContain(FOLLOW_UP_TITLE);
    customerId = page.url().split('/').pop()?.split('?')[0] ?? '';
    await shot(page, '30-customer-profile');
    await page.goto(`${stack!.publicUrl}/console/cockpit`);
    await page.locator('[data-test=cockpit]').waitFor();
    await page.locator('[data-test=cockpit-loading]').waitFor({ state: 'detached' });
    await shot(page, '31-cockpit');
    await context.close();
    expect(customerId).not.toBe('');
    expect(problems).toEqual([]);
  }, 120_000);

  let taskId = '';
  it('when the follow-up falls due, the advisor completes it on a 375-px phone', async () => {
    const now = dayjs((await adminApi<{ now: string }>('GET', '/ops/clock')).now).tz('Asia/Shanghai');
    const due = now.add(1, 'day').hour(10).minute(5).second(0);
    await adminApi('POST', '/ops/clock', { offsetMs: Math.max(0, due.valueOf() - Date.now()) });
    // The worker and the sandbox follow the shared clock within a second; sweep until the task exists.
    const task = await until(
      'the follow-up task',
      async () => {
        await adminApi('POST', '/ops/sweep');
        const { tasks } = await adminApi<{ tasks: Array<{ id: string; title: string; status: string }> }>(
          'GET',
          `/tasks?corpId=${DEMO_CORP_ID}&advisor=${ADVISOR}`,
        );
        return tasks.find((t) => t.title === FOLLOW_UP_TITLE);
      },
      45_000,
      1500,
    ); // gently: the admin API is rate limited per token
    taskId = task.id;

    const context = await personContext(PHONE);
    const page = await signIn(context, ADVISOR, '/m/tasks');
    const card = page.locator('[data-test=task-card]', { hasText: FOLLOW_UP_TITLE });
    await card.waitFor();
    await shot(page, '40-my-tasks-due');
    await card.click();
    await page.locator('[data-test=task-detail]').waitFor();
    // Who to call and what to say, and the card's choices: done with an outcome, snooze, unreachable.
    expect(await page.locator('[data-test=task-customer]').textContent()).toContain(CUSTOMER_NAME);
    const choices = await page.locator('[data-test=task-outcomes] button').allTextContents();
    expect(choices.map((c) => c.trim())).toEqual(['已联系', '已预约到店', '客户婉拒', '明天再说', '联系不上']);
    await shot(page, '41-task-detail');
    await page.click('[data-test=done-appointment_booked]');
    const done = await until(
      'the task to be done',
      async () => {
        const t = await adminApi<{ status: string; outcome?: string }>('GET', `/tasks/${taskId}`);
        return t.status === 'done' ? t : undefined;
      },
      15_000,
    );
    expect(done.outcome).toBe('appointment_booked');
    await context.close();
    expect(problems).toEqual([]);
  }, 150_000);

  it('the manager sees it done on the tasks page', async () => {
    expect(taskId, 'needs the task of the previous step').not.toBe('');
    const context = await personContext(DESKTOP);
    const page = await signIn(context, MANAGER, '/tasks');
    const table = page.locator('[data-test=tasks-table]');
    await table.waitFor();
    const row = table.locator('tr', { has: page.locator('[data-test=task-row]', { hasText: FOLLOW_UP_TITLE }) });
    await expect.poll(() => row.locator('[data-test=task-status]').textContent(), { timeout: 15_000 }).toBe('已完成');
    await shot(page, '50-tasks');
    const box = (await table.boundingBox())!; // for the README: the header, filters and the table
    await page.screenshot({
      path: join(shots, 'readme-tasks.png'),
      clip: {
        x: 0,
        y: 0,
        width: DESKTOP.viewport.width,
        height: Math.min(DESKTOP.viewport.height, box.y + box.height + 24),
      },
    });
    await page.click('[data-test=nav-transfers]'); // the navigation is plain links
    await page.locator('[data-test=transfer-start]').waitFor();
    await shot(page, '51-transfers');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it("a dealer admin typing another corp's settings URL is refused by the API and told so", async () => {
    const context = await personContext(DESKTOP);
    const page = await signIn(context, 'chenjing', `/settings/${DEMO_CORP_ID}`);
    await page.locator('[data-test=settings-form]').waitFor();
    expectedFailures.push(new RegExp(`/api/v1/corps/${OTHER_CORP}/settings$`));
    const refused = page.waitForResponse((r) => r.url().endsWith(`/api/v1/corps/${OTHER_CORP}/settings`));
    await page.goto(`${stack!.publicUrl}/console/settings/${OTHER_CORP}`);
    expect((await refused).status()).toBe(404);
    const message = page.locator('[data-test=settings-refused]');
    await message.waitFor();
    expect(await message.textContent()).toContain(`无法打开企业 ${OTHER_CORP} 的设置`);
    expect(await page.locator('[data-test=settings-form]').count()).toBe(0);
    await shot(page, '60-cross-corp-refused');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
