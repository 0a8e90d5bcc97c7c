/**
 * The weekly cockpit digest end to end (docs/cockpit.md): follow-up tasks over nine weeks in the demo
 * corp, the backfill rolls them up, the worker's 15-minute tick on Monday 09:30 local rolls up
 * the settle window and sends the manager a markdown app message through the WeCom sandbox with
 * the planted anomaly; a second tick (a retried job) sends nothing more.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { KpiDigestModel } from '../../src/domain/kpis/kpi-digest.model.js';
import { addDays } from '../../src/domain/kpis/kpi-days.js';
import { rollupRange } from '../../src/domain/kpis/rollup.service.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { runKpiTickExclusive } from '../processors/kpis.handlers.js';
import { startBotHarness, type BotHarness } from './bot.test-support.js';

const HOUR = 3_600_000;
/** Monday 2026-05-11 09:30 Asia/Shanghai: the digest judges the week of 2026-05-04. */
const START = Date.parse('2026-05-11T01:30:00Z');
const WEEK = '2026-05-04';
const TEAM: Array<[string, string, number[]]> = [
  ['wangqiang', '王强', [2]],
  ['zhangwei', '张伟', [2]],
  ['lina', '李娜', [2]],
  ['liuyang', '刘洋', [2]],
  ['chenjing', '陈静', [3]],
];

let bot: BotHarness;
const world = () => {
  const corp = bot.sandbox.world.corp(bot.corpId);
  if (!corp) throw new Error('no demo corp in the sandbox');
  return corp;
};
const digestsTo = (userid: string) =>
  world().messages.filter(
    (m) => m.msgtype === 'markdown' && m.touser.includes(userid) && JSON.stringify(m.body).includes('客户经营周报'),
  );

beforeAll(async () => {
  bot = await startBotHarness({ startAt: START });
  for (const [userid, name, departments] of TEAM) {
    await AdvisorModel.updateOne(
      { corpId: bot.corpId, userid },
      { $set: { name, departments, leadsDepartments: userid === 'wangqiang' ? [2] : [], status: 'active' } },
      { upsert: true },
    );
  }
  const customerId = new Types.ObjectId();
  const tasks = [];
  for (let w = -8; w <= 0; w++) {
    const dueAt = new Date(Date.parse(`${addDays(WEEK, 7 * w + 1)}T10:00:00+08:00`));
    for (const [i, [userid]] of TEAM.entries()) {
      const collapsed = userid === 'zhangwei' && w === 0;
      const onTime = collapsed ? 3 : 10 + ((i + w + 16) % 2);
      for (let n = 0; n < 12; n++) {
        const open = collapsed && n >= onTime;
        tasks.push({
          corpId: bot.corpId,
          customerId,
          advisorUserid: userid,
          title: '回访',
          dueAt,
          slaMs: 24 * HOUR,
          remindAt: dueAt,
          ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
          status: open ? 'open' : 'done',
          ...(open
            ? {}
            : { outcome: 'contacted', completedAt: new Date(dueAt.getTime() + (n < onTime ? 1 : 30) * HOUR) }),
          history: [{ at: dueAt, actor: 'system', action: 'created' }],
        });
      }
    }
  }
  await TaskModel.insertMany(tasks);
  await rollupRange({
    corpId: bot.corpId,
    timeZone: 'Asia/Shanghai',
    now: bot.clock.now(),
    from: addDays(WEEK, -56),
    to: addDays(WEEK, 7),
  });
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

describe('weekly KPI digest', () => {
  it('the manager receives the planted anomaly once, as a markdown app message with a console link', async () => {
    const first = await runKpiTickExclusive(bot.ctx, [bot.corpId], bot.ctx.logger);
    expect(first).toMatchObject([{ corpId: bot.corpId, today: '2026-05-11', digest: { sent: 1, already: 0 } }]);
    const received = digestsTo('wangqiang');
    expect(received).toHaveLength(1);
    const content = JSON.stringify(received[0]?.body);
    expect(content).toContain('张伟的按时完成率 25%');
    expect(content).toContain('/console/tasks?');
    expect(content).toContain('advisor=zhangwei');
    expect(digestsTo('chenjing')).toHaveLength(0); // not a manager

    const retried = await runKpiTickExclusive(bot.ctx, [bot.corpId], bot.ctx.logger);
    expect(retried).toMatchObject([{ digest: { sent: 0, already: 1 } }]);
    expect(digestsTo('wangqiang')).toHaveLength(1);
    expect(await KpiDigestModel.find({ corpId: bot.corpId, week: WEEK }).lean()).toMatchObject([
      { userid: 'wangqiang', status: 'sent', flags: 1 },
    ]);
  });
});
