/**
 * Broadcasts and Moments in the console (docs/engagement.md, "Console"): Debian Chromium against
 * the `npm run dev` stack (web, worker, dev MongoDB server, private Redis, WeCom sandbox). The
 * storyline, in order:
 *   1. marketing builds a segment on /console/broadcasts with the rule form's condition fields (the
 *      owners, then one advisor's owners, then both advisors'), sees the preview per advisor follow
 *      each change, and submits it for approval; the list shows the send time in dealer time;
 *   2. the sales manager approves it on the page;
 *   3. the broadcast tick runs (`POST /api/v1/ops/broadcasts` instead of the 5-minute schedule),
 *      each advisor confirms their mass-send task in the sandbox's WeCom client, the tick polls
 *      WeCom, and the page shows every advisor's send confirmed;
 *      beside it, the broadcast's report (treated vs held out in the rules' report wording);
 *   4. marketing creates a Moments task with a content-library image for two advisors on
 *      /console/moments (the worker uploads it with upload_attachment); one publishes it in
 *      the sandbox, the Moments tick runs (`POST /api/v1/ops/moments`) and the page shows who
 *      published;
 *   5. marketing creates a group welcome template on /console/group-welcome, sees WeCom's template
 *      id once the worker pushed it (the sandbox holds it), edits it (the sandbox follows) and
 *      deletes it (gone from the sandbox);
 *   6. marketing tags an owner group created in the sandbox on /console/groups and filters the
 *      list by that tag.
 * The shared clock stands at 10:05 corp time, outside quiet hours, so the send is not postponed.
 * Every page is watched for console errors, failed requests and ≥ 400 answers. Screenshots go to
 * artifacts/console-e2e/bc-*.png (not committed). Skips when /usr/bin/chromium is absent.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevStack } from '../../scripts/dev/dev-stack.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { pngOf } from '../../src/domain/moments/moment.test-support.js';
import { dayjs } from '../../src/infra/clock.js';
import {
  CHROMIUM,
  DEMO_MANAGER,
  DEMO_MARKETING,
  adminApi as stackAdminApi,
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

if (!hasChromium) console.warn(`broadcasts console e2e skipped: ${CHROMIUM} is missing`);

const shots = join(repoRoot, 'artifacts', 'console-e2e');
let running: BrowserStack | undefined;
let stack: DevStack | undefined;
let browser: Browser | undefined;

const MARKETING = DEMO_MARKETING;
const MANAGER = DEMO_MANAGER;
/** Advisors whose new customers add them through the demo's delivery QR code, which makes them owners. */
const OWNER_ADVISORS = ['zhangwei', 'liuyang'];
/** An advisor whose new customer is a prospect (showroom code): not in the owners segment. */
const PROSPECT_ADVISOR = 'lina';
const BROADCAST_NAME = '保养节（e2e）';
const BROADCAST_TEXT = '车主保养节：本周到店工时 8 折，回复预约。';
const MOMENT_NAME = '新车上市（e2e）';
const MOMENT_TEXT = '星途新款到店，欢迎试驾。';
/** How long a page may take to show an answer on the shared, busy machine (expect.poll's default is 1 s). */
const UI_WAIT = { timeout: 15_000 };

const adminApi = <T>(method: string, path: string, body?: unknown) => stackAdminApi<T>(stack!, method, path, body);
const sandboxApi = <T>(method: string, path: string, body?: unknown) => stackSandboxApi<T>(stack!, method, path, body);
const problems: string[] = [];
/** The shared clock's time in the corp's zone once the run has moved it to the morning. */
let corpNow = dayjs();

interface BroadcastDetail {
  id: string;
  status: string;
  progress: Array<{ userid: string; state: string; customers: { sent: number; pending: number; failed: number } }>;
}
interface MomentRow {
  id: string;
  name: string;
  status: string;
  published: number;
  publishStatus: Array<{ userid: string; published: boolean }>;
}
interface SandboxWorld {
  corps: Array<{
    groupWelcomeTemplates: Array<{ template_id: string; text?: string; attachment?: { link?: { title: string } } }>;
    massTasks: Array<{ msgid: string; text?: string; senders: Record<string, { status: number }> }>;
    moments: Array<{
      moment_id: string;
      text?: string;
      attachments: number;
      attachmentKind?: string;
      senders: Record<string, { published: boolean }>;
    }>;
  }>;
}

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(shots, { recursive: true });
  running = await startBrowserStack('broadcasts-console-e2e');
  stack = running.stack;
  browser = await launchChromium();
  await grantMarketing(stack, DEMO_CORP_ID, MARKETING);
  await untilAdvisors(stack, DEMO_CORP_ID, [MANAGER, ...OWNER_ADVISORS]);
  // Two customers take delivery (the delivery channel makes them owners), a third visits the showroom.
  for (const [i, userid] of OWNER_ADVISORS.entries())
    await sandboxApi('POST', '/actions/addCustomer', {
      corpId: DEMO_CORP_ID,
      userid,
      customer: { name: `测试车主群发${i + 1}` },
      state: 'delivery_demo',
    });
  await sandboxApi('POST', '/actions/addCustomer', {
    corpId: DEMO_CORP_ID,
    userid: PROSPECT_ADVISOR,
    customer: { name: '测试潜客群发' },
    state: 'showroom_qr',
  });
  await until('the two owners known to the bot', async () => {
    const plan = await adminApi<{ customers: number }>('POST', '/broadcasts/preview', {
      corpId: DEMO_CORP_ID,
      audience: { kind: 'segment', conditions: { lifecycle: ['owner'] } },
      content: { text: BROADCAST_TEXT },
    });
    return plan.customers === OWNER_ADVISORS.length ? true : undefined;
  });
  // Tomorrow 10:05 at the dealer: a broadcast sent in quiet hours would wait for the morning.
  const now = dayjs((await adminApi<{ now: string }>('GET', '/ops/clock')).now).tz('Asia/Shanghai');
  const morning = now.add(1, 'day').hour(10).minute(5).second(0);
  await adminApi('POST', '/ops/clock', { offsetMs: Math.max(0, morning.valueOf() - Date.now()) });
  corpNow = morning;
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const personContext = () => watchedContext(browser!, problems);
const signIn = (context: BrowserContext, userid: string, path: string) =>
  signInThroughWeCom(stack!, context, userid, path, { shots, problems });
const shot = (page: Page, name: string) => photograph(page, shots, name);
const world = async () => (await sandboxApi<SandboxWorld>('GET', `/world?corpId=${DEMO_CORP_ID}`)).corps[0]!;

describe.skipIf(!hasChromium)('broadcasts and Moments in Chromium', () => {
  let broadcastId = '';
  it('marketing builds a segment of owners, sees the preview per advisor follow the conditions and submits it', async () => {
    const everyone = await adminApi<{ customers: number }>('POST', '/broadcasts/preview', {
      corpId: DEMO_CORP_ID,
      audience: { kind: 'segment', conditions: {} },
    });
    const context = await personContext();
    const page = await signIn(context, MARKETING, '/broadcasts');
    await page.locator('[data-test=create]').waitFor();
    const preview = page.locator('[data-test=preview-result]');
    // No condition yet: every customer of the dealer, the showroom prospect among them.
    await expect.poll(() => preview.textContent(), UI_WAIT).toContain(`将发送给 ${everyone.customers} 位客户`);
    expect(everyone.customers).toBeGreaterThan(OWNER_ADVISORS.length);
    await page.fill('[data-test=name] input, input[data-test=name]', BROADCAST_NAME);
    // The rule form's condition fields: owners only, then only one advisor's owners, then both again.
    await page.click('[data-test=rule-cond-lifecycle-owner]');
    await expect.poll(() => preview.textContent(), UI_WAIT).toContain(`将发送给 ${OWNER_ADVISORS.length} 位客户`);
    await page.fill('[data-test=rule-cond-advisors] input, input[data-test=rule-cond-advisors]', OWNER_ADVISORS[0]!);
    await expect.poll(() => preview.textContent(), UI_WAIT).toContain('将发送给 1 位客户');
    expect(await preview.locator('tr', { hasText: OWNER_ADVISORS[1]! }).count()).toBe(0);
    await page.fill('[data-test=rule-cond-advisors] input, input[data-test=rule-cond-advisors]', '');
    await expect.poll(() => preview.textContent(), UI_WAIT).toContain(`将发送给 ${OWNER_ADVISORS.length} 位客户`);
    await page.fill('[data-test=text] textarea, textarea[data-test=text]', BROADCAST_TEXT);
    // The time on the shared clock (the browser's own clock does not follow it).
    await page.fill('[data-test=scheduled-at]', corpNow.format('YYYY-MM-DDTHH:mm'));
    await page.click('[data-test=preview]');
    await expect.poll(() => preview.textContent(), UI_WAIT).toContain('将发送给 2 位客户');
    for (const advisor of OWNER_ADVISORS)
      await expect.poll(() => preview.locator('tr', { hasText: advisor }).count(), UI_WAIT).toBe(1);
    expect(await preview.locator('tr', { hasText: PROSPECT_ADVISOR }).count()).toBe(0);
    // One text without variables: one message for each advisor to confirm in 群发助手.
    expect(await preview.textContent()).toContain('待确认群发条数（上限 5）');
    await shot(page, 'bc-10-preview');

    await page.click('[data-test=submit]');
    await page.locator('[data-test=detail]').waitFor();
    const created = await until('the stored broadcast', async () => {
      const { broadcasts } = await adminApi<{ broadcasts: Array<{ id: string; name: string; status: string }> }>(
        'GET',
        `/broadcasts?corpId=${DEMO_CORP_ID}`,
      );
      return broadcasts.find((b) => b.name === BROADCAST_NAME);
    });
    expect(created.status).toBe('pending_approval');
    broadcastId = created.id;
    expect(await page.locator(`[data-test=status-${broadcastId}]`).textContent()).toBe('待审批');
    // The send time in the dealer's time (the browser runs in Asia/Shanghai), not the API's UTC text.
    expect(await page.locator(`[data-test=scheduled-${broadcastId}]`).textContent()).toBe(
      corpNow.format('YYYY/M/D HH:mm'),
    );
    // The author never approves (four eyes).
    expect(await page.locator(`[data-test=approve-${broadcastId}]`).count()).toBe(0);
    await shot(page, 'bc-11-submitted');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('the manager approves it on the page', async () => {
    expect(broadcastId, 'needs the broadcast of the previous step').not.toBe('');
    const context = await personContext();
    const page = await signIn(context, MANAGER, '/broadcasts');
    await page.locator(`[data-test=approve-${broadcastId}]`).click();
    await expect.poll(() => page.locator(`[data-test=status-${broadcastId}]`).textContent(), UI_WAIT).toBe('已批准');
    await shot(page, 'bc-20-approved');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('the tick hands it to the advisors; they confirm in WeCom; the page shows each send confirmed', async () => {
    expect(broadcastId, 'needs the broadcast of the previous step').not.toBe('');
    const detail = () => adminApi<BroadcastDetail>('GET', `/broadcasts/${broadcastId}`);
    await until(
      'the broadcast handed to the advisors',
      async () => {
        await adminApi('POST', '/ops/broadcasts');
        return (await detail()).status === 'sent' ? true : undefined;
      },
      30_000,
      500,
    );
    // One mass-send task per advisor (WeCom pushes a task to one sender per call).
    const tasks = (await world()).massTasks.filter((t) => t.text === BROADCAST_TEXT);
    expect(tasks.flatMap((t) => Object.keys(t.senders)).sort()).toEqual([...OWNER_ADVISORS].sort());
    for (const task of tasks)
      for (const userid of Object.keys(task.senders))
        await sandboxApi('POST', '/actions/confirmMassSend', { corpId: DEMO_CORP_ID, msgid: task.msgid, userid });
    const confirmed = await until(
      'every advisor confirmed in the bot',
      async () => {
        await adminApi('POST', '/ops/broadcasts');
        const d = await detail();
        return d.progress.length === OWNER_ADVISORS.length && d.progress.every((a) => a.state === 'sent')
          ? d
          : undefined;
      },
      30_000,
      500,
    );
    expect(confirmed.progress.map((a) => a.customers)).toEqual([
      { sent: 1, pending: 0, failed: 0 },
      { sent: 1, pending: 0, failed: 0 },
    ]);

    const context = await personContext();
    const page = await signIn(context, MANAGER, '/broadcasts');
    await page.locator(`[data-test=open-${broadcastId}]`).click();
    const progress = page.locator('[data-test=progress]');
    await progress.waitFor();
    for (const advisor of OWNER_ADVISORS)
      await expect
        .poll(() => progress.locator('tr', { hasText: advisor }).textContent(), UI_WAIT)
        .toContain('已确认发送');
    expect(await page.locator('[data-test=totals]').textContent()).toBe('已发送 2，待确认 0，失败 0');
    // The report beside the progress: both owners treated; no holdout share, so no control group.
    const report = page.locator('[data-test=broadcast-report]');
    await expect
      .poll(() => report.locator('[data-test=verdict-no_control_group]').textContent(), UI_WAIT)
      .toContain('没有对照组：请在群发中设置对照组比例');
    const treated = report.locator('[data-test=report-groups] tr', { hasText: '触达组' });
    expect((await treated.locator('td').allTextContents()).map((c) => c.trim())[1]).toBe(String(OWNER_ADVISORS.length));
    const figures = await adminApi<{ treated: { customers: number }; heldOut: { customers: number } }>(
      'GET',
      `/broadcasts/${broadcastId}/report`,
    );
    expect(figures).toMatchObject({ treated: { customers: OWNER_ADVISORS.length }, heldOut: { customers: 0 } });
    await shot(page, 'bc-30-progress');
    await context.close();
    expect(problems).toEqual([]);
  }, 150_000);

  it('marketing creates a Moments task with a library image; after one advisor publishes, the page shows it', async () => {
    // A content-library image of the corp (a portrait 1080 × 1440 PNG header: within WeCom's Moments bounds).
    const asset = await adminApi<{ id: string }>('POST', '/media', {
      scope: DEMO_CORP_ID,
      filename: 'launch.png',
      contentType: 'image/png',
      dataBase64: pngOf(1080, 1440).toString('base64'),
    });
    const item = await adminApi<{ id: string }>('POST', '/content', {
      kind: 'image',
      scope: DEMO_CORP_ID,
      title: '新车外观图（e2e）',
      assetId: asset.id,
    });
    const context = await personContext();
    const page = await signIn(context, MARKETING, '/moments');
    await page.locator('[data-test=create]').waitFor();
    await page.fill('[data-test=name] input, input[data-test=name]', MOMENT_NAME);
    await page.fill('[data-test=text] textarea, textarea[data-test=text]', MOMENT_TEXT);
    await page.click('[data-test=attach-images]');
    await page.click(`[data-test=image-${item.id}]`);
    await page.fill('[data-test=advisors] input, input[data-test=advisors]', OWNER_ADVISORS.join(', '));
    await page.click('[data-test=submit]');
    const row = page.locator('[data-test=list] tr', { hasText: MOMENT_NAME });
    await row.waitFor();
    await shot(page, 'bc-40-moment-created');

    // The worker creates it in WeCom (moment-create); the tick learns its moment_id.
    const moment = await until(
      'the Moments task active in the bot',
      async () => {
        await adminApi('POST', '/ops/moments');
        const { moments } = await adminApi<{ moments: MomentRow[] }>('GET', `/moments?corpId=${DEMO_CORP_ID}`);
        return moments.find((m) => m.name === MOMENT_NAME && m.status === 'active');
      },
      30_000,
      500,
    );
    const inWeCom = (await world()).moments.find((m) => m.text === MOMENT_TEXT);
    expect(Object.keys(inWeCom?.senders ?? {}).sort()).toEqual([...OWNER_ADVISORS].sort());
    // The image went as a Moments attachment (its upload_attachment media id checked by the sandbox).
    expect(inWeCom).toMatchObject({ attachments: 1, attachmentKind: 'image' });
    expect(await page.locator(`[data-test=attachments-${moment.id}]`).textContent()).toBe('1 张图片');
    await sandboxApi('POST', '/actions/publishMoment', {
      corpId: DEMO_CORP_ID,
      momentId: inWeCom!.moment_id,
      userid: OWNER_ADVISORS[0],
    });
    await until(
      'the publication seen by the bot',
      async () => {
        await adminApi('POST', '/ops/moments');
        const { moments } = await adminApi<{ moments: MomentRow[] }>('GET', `/moments?corpId=${DEMO_CORP_ID}`);
        return moments.find((m) => m.id === moment.id && m.published === 1);
      },
      30_000,
      500,
    );
    await page.click('[data-test=refresh]');
    await expect
      .poll(() => page.locator(`[data-test=progress-${moment.id}]`).textContent(), UI_WAIT)
      .toBe('1 / 2 位顾问已发表');
    // Who has not published yet.
    expect(await row.textContent()).toContain(OWNER_ADVISORS[1]);
    await shot(page, 'bc-41-moment-published');
    await context.close();
    expect(problems).toEqual([]);
  }, 150_000);

  it('marketing creates, edits and deletes a group welcome template; WeCom follows each change', async () => {
    const LABEL = '车主群欢迎（e2e）';
    const TEXT = '欢迎 %NICKNAME% 加入车主群（e2e）';
    const EDITED = '欢迎 %NICKNAME%，保养预约请点链接（e2e）';
    const inWeCom = async () => (await world()).groupWelcomeTemplates ?? [];
    const context = await personContext();
    const page = await signIn(context, MARKETING, '/group-welcome');
    await page.locator('[data-test=form]').waitFor();
    await page.fill('[data-test=label] input, input[data-test=label]', LABEL);
    await page.fill('[data-test=text] textarea, textarea[data-test=text]', TEXT);
    await page.click('[data-test=kind-link]');
    await page.fill('[data-test=link-title] input, input[data-test=link-title]', '保养预约');
    await page.fill('[data-test=link-url] input, input[data-test=link-url]', 'https://dealer.example.com/booking');
    await page.click('[data-test=save]');
    const row = page.locator('[data-test=list] tr', { hasText: LABEL });
    await row.waitFor();
    // The worker pushes it (group_welcome_template/add); the page reloads itself while it is pending.
    await expect.poll(() => row.locator('[data-test^=sync-]').first().textContent(), UI_WAIT).toBe('已同步');
    const pushed = (await inWeCom()).find((t) => t.text === TEXT);
    expect(pushed?.attachment?.link?.title).toBe('保养预约');
    expect(await row.locator('[data-test^=wecom-id-]').textContent()).toBe(pushed!.template_id);
    await shot(page, 'bc-50-welcome-created');

    await row.locator('[data-test^=edit-]').click();
    await page.fill('[data-test=text] textarea, textarea[data-test=text]', EDITED);
    await page.click('[data-test=save]');
    await until('the edit in WeCom', async () =>
      (await inWeCom()).find((t) => t.template_id === pushed!.template_id && t.text === EDITED),
    );
    await expect.poll(() => row.locator('[data-test^=sync-]').first().textContent(), UI_WAIT).toBe('已同步');
    expect(await row.textContent()).toContain(EDITED);

    await row.locator('[data-test^=delete-]').click();
    await page.locator('.el-message-box__btns .el-button--primary').click();
    await expect.poll(() => row.count(), UI_WAIT).toBe(0);
    await until('the template deleted in WeCom', async () =>
      (await inWeCom()).some((t) => t.template_id === pushed!.template_id) ? undefined : true,
    );
    await shot(page, 'bc-51-welcome-deleted');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('marketing tags an owner group with its purpose and filters the groups by it', async () => {
    const TAGGED = 'wrE2eModelGroup1';
    const OTHER = 'wrE2eOtherGroup1';
    const TAG = 'model:瑶光e2e';
    for (const [chatId, name] of [
      [TAGGED, '瑶光车主群（e2e）'],
      [OTHER, '五月交车群（e2e）'],
    ] as const)
      await sandboxApi('POST', '/actions/changeGroup', {
        corpId: DEMO_CORP_ID,
        change: 'create',
        chatId,
        owner: OWNER_ADVISORS[0],
        name,
      });
    await until('both groups in the bot', async () => {
      const { groups } = await adminApi<{ groups: Array<{ chatId: string }> }>('GET', `/groups?corpId=${DEMO_CORP_ID}`);
      return [TAGGED, OTHER].every((id) => groups.some((g) => g.chatId === id)) ? true : undefined;
    });
    const context = await personContext();
    const page = await signIn(context, MARKETING, '/groups');
    await page.locator(`[data-test=edit-tags-${TAGGED}]`).click();
    await page.locator('[data-test=tags-input]').click();
    await page.keyboard.type(TAG);
    await page.keyboard.press('Enter');
    await page.click('[data-test=tags-save]');
    await expect.poll(() => page.locator(`[data-test=tags-${TAGGED}]`).textContent(), UI_WAIT).toBe(TAG);
    const { groups: tagged } = await adminApi<{ groups: Array<{ chatId: string }> }>(
      'GET',
      `/groups?corpId=${DEMO_CORP_ID}&purposeTag=${encodeURIComponent(TAG)}`,
    );
    expect(tagged.map((g) => g.chatId)).toEqual([TAGGED]);

    // The filter: only the tagged group is listed.
    expect(await page.locator(`[data-test=tags-${OTHER}]`).count()).toBe(1);
    await page.locator('[data-test=tag-filter]').click();
    await page.keyboard.type(TAG);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(`[data-test=tags-${OTHER}]`).count(), UI_WAIT).toBe(0);
    expect(await page.locator(`[data-test=tags-${TAGGED}]`).count()).toBe(1);
    expect(await page.locator('[data-test=kpi-groups]').textContent()).toBe('1');
    await shot(page, 'bc-60-groups-filtered');
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
