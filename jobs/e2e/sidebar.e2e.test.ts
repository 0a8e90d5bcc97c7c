/**
 * The advisor sidebar in a real browser (docs/console.md, "Advisor sidebar"): Debian Chromium at a
 * 390×844 phone viewport against the `npm run dev` stack, the WeCom client played by the sandbox's
 * JS-SDK stand-in (which checks the page's signatures with the sandbox's tickets). 张伟 opens the
 * sidebar in the chat with a customer whose follow-up is due, sees the vehicle and the task, sends
 * the talk track and a content-library item (the sandbox records both), writes a note, completes the
 * task with an outcome, records an opt-out (the next campaign message for that customer is
 * blocked); the chat with another advisor's customer is refused; the phone task page shows the
 * note; opened from the owners' group he runs, the sidebar lists the customer with the vehicle. Screenshots go to artifacts/console-e2e/ (not committed).
 * Skips when /usr/bin/chromium is absent.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../scripts/dev/dev-stack.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { dayjs } from '../../src/infra/clock.js';
import {
  CHROMIUM,
  hasChromium,
  repoRoot,
  startBrowserStack,
  adminApi as stackAdminApi,
  sandboxApi as stackSandboxApi,
  until,
  launchChromium,
  type BrowserStack,
} from './browser.test-support.js';

if (!hasChromium) console.warn(`sidebar e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const shots = join(repoRoot, 'artifacts', 'console-e2e');
const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
};
let running: BrowserStack | undefined;
let stack: DevStack | undefined;
let browser: Browser | undefined;

const api = <T>(method: string, path: string, body?: unknown) => stackAdminApi<T>(stack!, method, path, body);
const sandbox = <T>(method: string, path: string, body?: unknown) => stackSandboxApi<T>(stack!, method, path, body);

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(shots, { recursive: true });
  running = await startBrowserStack('sidebar-e2e');
  stack = running.stack;
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** Opens the sidebar in `chat` and signs in through the sandbox's WeCom OAuth page as `userid`. */
async function openSidebar(page: Page, userid: string, chat: string): Promise<void> {
  await page.goto(`${stack!.publicUrl}/console/sidebar?corpId=${DEMO_CORP_ID}&sandboxChat=${encodeURIComponent(chat)}`);
  if (
    /\/connect\/oauth2\/authorize/.test(page.url()) ||
    (await page.waitForURL(/\/connect\/oauth2\/authorize/, { timeout: 10_000 }).then(
      () => true,
      () => false,
    ))
  ) {
    await page.click(`a:has-text("(${userid})")`);
    await page.waitForURL((url) => url.pathname === '/console/sidebar');
  }
}

describe.skipIf(!hasChromium)('advisor sidebar in Chromium (390×844)', () => {
  it("shows the due task and vehicle, sends the talk track and a library item, writes a note, completes the task, records an opt-out; refuses another advisor's customer; shows the group", async () => {
    // A customer adds 张伟 through the demo delivery channel; the next morning the follow-up is due.
    const before = stack!.sandbox.context.world.corp(DEMO_CORP_ID)!.customers.length;
    await sandbox('POST', '/actions/addCustomer', {
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      customer: { name: '测试车主侧边栏' },
      state: 'delivery_demo',
    });
    const ext = stack!.sandbox.context.world.corp(DEMO_CORP_ID)!.customers[before]!.external_userid;
    const customer = await until('the customer in the bot', async () => {
      const { customers } = await api<{ customers: Array<{ id: string; externalUserId: string }> }>(
        'GET',
        `/customers?corpId=${DEMO_CORP_ID}&advisor=zhangwei`,
      );
      return customers.find((c) => c.externalUserId === ext);
    });
    await api('POST', '/vehicles', {
      corpId: DEMO_CORP_ID,
      vin: 'LSVAB2180E2012345',
      model: '星途瑶光',
      deliveryDate: '2026-01-10',
      mileageKm: 3200,
      insuranceExpiry: '2027-01-09',
      externalUserId: ext,
    });
    // "The next morning" in the dealer's zone: computed in UTC it is still today in Shanghai after 16:00 UTC.
    const now = dayjs((await api<{ now: string }>('GET', '/ops/clock')).now).tz('Asia/Shanghai');
    await api('POST', '/ops/clock', {
      offsetMs: Math.max(0, now.add(1, 'day').hour(10).minute(5).valueOf() - Date.now()),
    });
    await new Promise((r) => setTimeout(r, 1500));
    await until(
      'the due follow-up',
      async () => {
        await api('POST', '/ops/sweep');
        const { tasks } = await api<{ tasks: Array<{ customerId: string }> }>(
          'GET',
          `/tasks?corpId=${DEMO_CORP_ID}&advisor=zhangwei&status=open`,
        );
        return tasks.some((t) => t.customerId === customer.id) ? true : undefined;
      },
      45_000,
      // Two requests per probe: once a second stays under the API's per-token rate limit on a slow machine.
      1_000,
    );

    // Marketing's library item for this dealer, with the customer's variables.
    const item = await api<{ id: string }>('POST', '/content', {
      kind: 'talk_track',
      scope: DEMO_CORP_ID,
      title: '保养套餐',
      text: '{客户}您好，{车型}车主专享保养套餐已为您预留',
    });

    const context = await browser!.newContext(PHONE);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await openSidebar(page, 'zhangwei', ext);
    await page.locator('[data-test=customer]').waitFor();
    await expect(page.locator('[data-test=vehicles]').innerText()).resolves.toContain('星途瑶光');
    const task = page.locator('[data-test=tasks] .row').first();
    await expect(task.innerText()).resolves.not.toBe('');
    await page.screenshot({ path: join(shots, 'sidebar-customer.png'), fullPage: true });

    // The talk track goes into the chat; the sandbox records it and the bot counts the touch.
    await page.click('[data-test=send-talk]');
    await page.locator('[data-test=notice]', { hasText: '话术已发送' }).waitFor();
    const sent = await sandbox<{ messages: Array<{ userid: string; externalUserId?: string }> }>('GET', '/jssdk/sent');
    expect(sent.messages).toContainEqual(expect.objectContaining({ userid: 'zhangwei', externalUserId: ext }));

    // A library item goes into the chat rendered with the customer's variables, recorded with its id.
    await page.click(`[data-content="${item.id}"] [data-test=send-content]`);
    await page.locator('[data-test=notice]', { hasText: '已发送：保养套餐' }).waitFor();
    const afterItem = await sandbox<{ messages: Array<{ externalUserId?: string; message: unknown }> }>(
      'GET',
      '/jssdk/sent',
    );
    expect(afterItem.messages.at(-1)).toMatchObject({
      externalUserId: ext,
      message: { msgtype: 'text', text: { content: expect.stringContaining('星途瑶光车主专享保养套餐') } },
    });

    // The advisor's note, written in the sidebar (shown again on the phone task page below).
    await page.fill('[data-test=note-text]', '周末下午方便联系');
    await page.click('[data-test=note-save]');
    await page.locator('[data-test=notice]', { hasText: '备注已保存' }).waitFor();
    await page.screenshot({ path: join(shots, 'sidebar-content-note.png'), fullPage: true });

    // Done with an outcome.
    await page.click('[data-test=done-contacted]');
    await page.locator('[data-test=notice]', { hasText: '已记录' }).waitFor();
    await page.screenshot({ path: join(shots, 'sidebar-task-done.png'), fullPage: true });

    // 客户要求退订: the opt-out is recorded and campaign sends to this customer stop.
    page.once('dialog', (d) => void d.accept());
    await page.click('[data-test=opt-out]');
    await page.locator('[data-test=opted-out]').waitFor();
    const privacy = await api<{ optOut: { value: boolean; source: string } }>(
      'GET',
      `/customers/${customer.id}/privacy`,
    );
    expect(privacy.optOut).toMatchObject({ value: true, source: 'advisor_reported' });
    await page.screenshot({ path: join(shots, 'sidebar-opted-out.png'), fullPage: true });

    // Another advisor's customer: the chat with one of 王强's customers is refused.
    const corp = stack!.sandbox.context.world.corp(DEMO_CORP_ID)!;
    const foreign = corp.follows.find(
      (f) =>
        f.status === 'active' &&
        f.userid !== 'zhangwei' &&
        !corp.follows.some((g) => g.userid === 'zhangwei' && g.external_userid === f.external_userid),
    );
    if (foreign) {
      await page.goto(
        `${stack!.publicUrl}/console/sidebar?corpId=${DEMO_CORP_ID}&sandboxChat=${encodeURIComponent(foreign.external_userid)}`,
      );
      await page.locator('[data-test=refused]').waitFor();
      await page.screenshot({ path: join(shots, 'sidebar-refused.png'), fullPage: true });
    }
    // The phone task page opens the chat with the customer (the stand-in: the sidebar in that chat).
    const { tasks } = await api<{ tasks: Array<{ id: string; customerId: string }> }>(
      'GET',
      `/tasks?corpId=${DEMO_CORP_ID}&advisor=zhangwei`,
    );
    const mine = tasks.find((t) => t.customerId === customer.id);
    await page.goto(`${stack!.publicUrl}/console/m/tasks/${mine?.id ?? ''}`);
    await page.locator('[data-test=task-talk-track]').waitFor();
    await expect(page.locator('[data-test=advisor-note] textarea').inputValue()).resolves.toBe('周末下午方便联系');
    await page.screenshot({ path: join(shots, 'sidebar-phone-task.png'), fullPage: true });
    await page.click('[data-test=open-chat]');
    await page.waitForURL((url) => url.pathname === '/console/sidebar' && url.searchParams.get('sandboxChat') === ext);
    await page.locator('[data-test=customer]').waitFor();

    // The owners' group 张伟 runs: opened from the group chat, it lists the customer with their vehicle.
    await sandbox('POST', '/actions/changeGroup', {
      corpId: DEMO_CORP_ID,
      change: 'create',
      chatId: 'wrSandboxGroup001',
      owner: 'zhangwei',
      name: '瑶光车主群',
      members: [ext],
    });
    await until('the group in the bot', async () => {
      const { groups } = await api<{ groups: Array<{ chatId: string }> }>('GET', `/groups?corpId=${DEMO_CORP_ID}`);
      return groups.some((g) => g.chatId === 'wrSandboxGroup001') ? true : undefined;
    });
    await page.goto(`${stack!.publicUrl}/console/sidebar?corpId=${DEMO_CORP_ID}&sandboxChat=group`);
    await page.locator('[data-test=group-customers]').waitFor();
    await expect(page.locator('[data-test=group]').innerText()).resolves.toContain('瑶光车主群');
    await expect(page.locator('[data-test=group-customers]').innerText()).resolves.toContain('星途瑶光');
    await page.screenshot({ path: join(shots, 'sidebar-group.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
