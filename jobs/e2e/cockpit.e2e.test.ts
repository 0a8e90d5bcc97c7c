/**
 * The manager cockpit in a real browser (docs/cockpit.md): Debian Chromium (playwright-core) against the
 * `npm run dev` stack, as in console.e2e.test.ts. Nine weeks of follow-up tasks are seeded for the
 * demo dealer's three sales advisors and rolled up with the production rollup (kpi_daily); in the
 * last complete week 张伟 (zhangwei) leaves 16 of 20 tasks overdue against his usual 90 % on time.
 * The sales manager 王强 signs in through the sandbox, opens the cockpit, sees the flag on 张伟,
 * switches the DMS results to one advisor's level (张伟), opens the drill-down and follows it to the
 * task list of 张伟's overdue tasks.
 * Screenshots go to artifacts/cockpit-e2e/ (not committed). Skips when /usr/bin/chromium is absent.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import mongoose, { Types } from 'mongoose';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import type { DevStack } from '../../scripts/dev/dev-stack.js';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  hasChromium,
  repoRoot,
  startBrowserStack,
  type BrowserStack,
} from './browser.test-support.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { rollupRange } from '../../src/domain/kpis/rollup.service.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';

dayjs.extend(utc);
dayjs.extend(timezone);

if (!hasChromium) console.warn(`cockpit e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const ZONE = 'Asia/Shanghai';
const HOUR = 3_600_000;
const shots = join(repoRoot, 'artifacts', 'cockpit-e2e');
const profileDir = mkdtempSync(join(tmpdir(), 'scrm-chromium-'));
let running: BrowserStack | undefined;
let stack: DevStack | undefined;
let browser: BrowserContext | undefined;

// Weeks in the dealer's zone: the last complete week is judged, the eight before it are history.
const thisMonday = dayjs()
  .tz(ZONE)
  .startOf('day')
  .subtract((dayjs().tz(ZONE).day() + 6) % 7, 'day');
const plantedWeek = thisMonday.subtract(1, 'week');
const firstWeek = plantedWeek.subtract(8, 'week');
const SALES = [
  { userid: 'zhangwei', name: '张伟' },
  { userid: 'lina', name: '李娜' },
  { userid: 'liuyang', name: '刘洋' },
];

/** 20 tasks due each Tuesday 10:00 per advisor: 18 on time, 2 late; zhangwei's planted week 4 on time, 16 still open (overdue). */
function seedTasks() {
  const docs = [];
  for (let w = 0; w <= 8; w++) {
    const dueAt = firstWeek.add(w, 'week').add(1, 'day').hour(10).toDate();
    for (const a of SALES) {
      const planted = w === 8 && a.userid === 'zhangwei';
      for (let i = 0; i < 20; i++) {
        const onTime = planted ? i < 4 : i < 18;
        const open = planted && !onTime;
        docs.push({
          corpId: DEMO_CORP_ID,
          customerId: new Types.ObjectId(),
          advisorUserid: a.userid,
          title: '交车关怀回访（e2e）',
          category: 'delivery_care',
          dueAt,
          slaMs: 24 * HOUR,
          ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
          remindAt: dueAt,
          notifyPending: false,
          status: open ? 'open' : 'done',
          ...(open
            ? {}
            : { outcome: 'contacted', completedAt: new Date(dueAt.getTime() + (onTime ? 2 * HOUR : 50 * HOUR)) }),
        });
      }
    }
  }
  return docs;
}

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(shots, { recursive: true });
  running = await startBrowserStack('cockpit-e2e');
  stack = running.stack;
  await mongoose.connect(stack.mongoUri, { serverSelectionTimeoutMS: 5000 });
  // The directory sync fills these from the sandbox too; upserting them keeps the test independent of its timing.
  for (const a of SALES)
    await AdvisorModel.updateOne(
      { corpId: DEMO_CORP_ID, userid: a.userid },
      { $set: { name: a.name, departments: [2], directLeaders: ['wangqiang'] } },
      { upsert: true },
    );
  await AdvisorModel.updateOne(
    { corpId: DEMO_CORP_ID, userid: 'wangqiang' },
    { $set: { name: '王强', departments: [2], leadsDepartments: [2] } },
    { upsert: true },
  );
  await TaskModel.insertMany(seedTasks());
  await rollupRange({
    corpId: DEMO_CORP_ID,
    timeZone: ZONE,
    now: new Date(),
    from: firstWeek.format('YYYY-MM-DD'),
    to: thisMonday.format('YYYY-MM-DD'),
  });
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: 'zh-CN',
    args: CHROMIUM_ARGS,
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await mongoose.disconnect();
  await running?.stop();
  rmSync(profileDir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('cockpit in Chromium', () => {
  it('a manager sees the planted anomaly on 张伟 and drills down to his overdue tasks', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 401/.test(msg.text()) && !/favicon/.test(msg.location().url))
        errors.push(`console: ${msg.text()} ${msg.location().url}`);
    });
    // Before sign-in /console/auth/me answers 401 by design (the browser logs it too); browsers also ask for /favicon.ico.
    page.on('response', (r) => {
      if (r.status() >= 400 && !/\/console\/auth\/me$|favicon/.test(r.url())) errors.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => errors.push(`failed ${r.url()} ${r.failure()?.errorText ?? ''}`));

    const range = { from: firstWeek.format('YYYY-MM-DD'), to: plantedWeek.add(6, 'day').format('YYYY-MM-DD') };
    await page.goto(
      `${stack!.publicUrl}/console/cockpit?${new URLSearchParams({ ...range, granularity: 'week', groupBy: 'advisor' }).toString()}`,
    );
    await page.waitForURL(/\/console\/login\?next=/);
    await page.locator('[data-test=wecom-sign-in]:not([disabled])').waitFor();
    await page.click('[data-test=wecom-sign-in]');
    await page.waitForURL(/\/wwlogin\/sso\/login/);
    await page.click('a:has-text("(wangqiang)")');

    await page.waitForURL(/\/console\/cockpit\?/);
    const flag = page.locator(`[data-test="flag-${DEMO_CORP_ID}:zhangwei"]`);
    await flag.waitFor();
    expect(await page.locator('[data-test="kpi-tile-on_time_rate"] [data-test="kpi-value"]').textContent()).toMatch(
      /^\d+%$/,
    );
    expect(await page.locator(`[data-test="flag-${DEMO_CORP_ID}:lina"]`).count()).toBe(0);
    expect(await page.locator(`[data-test="flag-${DEMO_CORP_ID}:liuyang"]`).count()).toBe(0);
    const explanation = await flag.getAttribute('aria-label');
    expect(explanation).toContain('张伟的按时完成率 20%');
    expect(explanation).toContain('20 项任务中 16 项逾期');
    await flag.hover();
    await page.locator('.el-popper:has-text("16 项逾期")').waitFor();
    await page.screenshot({ path: join(shots, '01-cockpit-flag.png'), fullPage: true });

    // The results from the DMS at another level: a manager reads their departments, or one advisor.
    const results = page.locator('[data-test="outcomes"]');
    await results.locator('[data-test="kpi-tile-outcome-returnRate"]').waitFor();
    expect(await results.locator('[data-test="outcome-level"] label').allTextContents()).toEqual(['顾问', '部门']);
    await results.locator('[data-test="outcome-level-advisor"]').click();
    await results.locator('[data-test="outcome-advisor"]').click();
    const asked = page.waitForResponse((r) => {
      const url = new URL(r.url());
      return url.pathname === '/api/v1/kpis/outcomes' && url.searchParams.get('advisor') === 'zhangwei';
    });
    await page.locator('.el-select-dropdown__item:visible', { hasText: '张伟' }).click();
    const answer = await asked;
    expect(answer.status()).toBe(200);
    expect(((await answer.json()) as { advisors?: string[] }).advisors).toEqual(['zhangwei']);
    for (const key of ['returnRate', 'firstMaintenanceRate', 'renewalRate', 'bookedArrivedRate', 'connectableRate'])
      expect(
        await results.locator(`[data-test="kpi-tile-outcome-${key}"] [data-test="kpi-value"]`).textContent(),
      ).toMatch(/^(\d+%|—)$/);
    expect(
      await results.locator('[data-test="kpi-tile-outcome-noShows"] [data-test="kpi-value"]').textContent(),
    ).toMatch(/^\d+$/);
    await results.locator('[data-test="kpi-definition-outcome-returnRate"]').hover();
    await page.locator('.el-popper:visible', { hasText: '维修工单' }).first().waitFor();
    await page.screenshot({ path: join(shots, '01b-results-by-advisor.png'), fullPage: true });

    await page.click(`[data-test="drill-${DEMO_CORP_ID}:zhangwei"]`);
    const drill = page.locator('[data-test="drill-down"]');
    await drill.locator('canvas').first().waitFor();
    expect(await drill.locator('[data-test="drill-flag"]').textContent()).toContain('16 项逾期');
    await page.screenshot({ path: join(shots, '02-drill-down.png'), fullPage: true });

    await drill.locator('[data-test="drill-tasks"]').click();
    await page.waitForURL(/\/console\/tasks\?/);
    const target = new URL(page.url());
    expect(Object.fromEntries(target.searchParams)).toEqual({
      corpId: DEMO_CORP_ID,
      advisor: 'zhangwei',
      overdue: 'true',
      from: plantedWeek.format('YYYY-MM-DD'),
      to: plantedWeek.add(6, 'day').format('YYYY-MM-DD'),
    });
    // The tasks behind the number, as the task list's API gives them to the manager: exactly the 16 planted ones.
    const behind = await page.evaluate(async (corpId) => {
      const res = await fetch(
        `/api/v1/tasks?${new URLSearchParams({ corpId, advisor: 'zhangwei', overdue: 'true' }).toString()}`,
      );
      return (await res.json()) as { tasks: Array<{ advisorUserid: string; status: string }> };
    }, DEMO_CORP_ID);
    expect(behind.tasks).toHaveLength(16);
    expect(behind.tasks.every((t) => t.advisorUserid === 'zhangwei' && t.status === 'open')).toBe(true);
    // And the task list page shows exactly those.
    await expect.poll(() => page.locator('[data-test="task-row"]').count(), { timeout: 15_000 }).toBe(16);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(shots, '03-overdue-tasks.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 180_000);
});
