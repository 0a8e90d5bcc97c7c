import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { CORP_A, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('tasks-api');
const as = bearer;
const HOUR = 3_600_000;

async function task(advisorUserid: string, dueAt: Date, extra: Record<string, unknown> = {}) {
  const customer = await CustomerModel.create({
    corpId: CORP_A,
    externalUserId: `wm${new Types.ObjectId().toHexString()}`,
  });
  const doc = await TaskModel.create({
    corpId: CORP_A,
    customerId: customer._id,
    advisorUserid,
    title: '回访',
    dueAt,
    slaMs: 24 * HOUR,
    remindAt: dueAt,
    ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
    history: [{ at: dueAt, actor: 'system', action: 'created' }],
    ...extra,
  });
  return String(doc._id);
}

beforeAll(async () => {
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', departments: [2], directLeaders: ['wangqiang'] },
    { corpId: CORP_A, userid: 'lina', departments: [2], directLeaders: ['wangqiang'] },
    { corpId: CORP_A, userid: 'chenjing', departments: [3] },
  ]);
});

describe('/api/v1/tasks', () => {
  it('advisors see and act on their own tasks only; a second completion is a 409; KPIs count on time as done ≤ due + SLA', async () => {
    const now = h.clock.now();
    const mine = await task('zhangwei', new Date(now.getTime() - HOUR));
    const late = await task('zhangwei', new Date(now.getTime() - 30 * HOUR));
    const theirs = await task('chenjing', new Date(now.getTime() - HOUR));
    const zhang = await h.token('advisor', [CORP_A], 'zhangwei');

    const list = await request(h.app.callback()).get('/api/v1/tasks').set(as(zhang)).expect(200);
    expect(list.body.tasks.map((t: { id: string }) => t.id).sort()).toEqual([mine, late].sort());
    expect(
      (await request(h.app.callback()).get('/api/v1/tasks?overdue=true').set(as(zhang)).expect(200)).body.tasks.map(
        (t: { id: string }) => t.id,
      ),
    ).toEqual([late]);
    await request(h.app.callback()).get(`/api/v1/tasks/${theirs}`).set(as(zhang)).expect(404);
    await request(h.app.callback())
      .post(`/api/v1/tasks/${theirs}/complete`)
      .set(as(zhang))
      .send({ outcome: 'contacted' })
      .expect(404);

    const done = await request(h.app.callback())
      .post(`/api/v1/tasks/${mine}/complete`)
      .set(as(zhang))
      .send({ outcome: 'appointment_booked' })
      .expect(200);
    expect(done.body).toMatchObject({ status: 'done', outcome: 'appointment_booked', onTime: true });
    await request(h.app.callback())
      .post(`/api/v1/tasks/${mine}/complete`)
      .set(as(zhang))
      .send({ outcome: 'contacted' })
      .expect(409);
    await request(h.app.callback())
      .post(`/api/v1/tasks/${late}/complete`)
      .set(as(zhang))
      .send({ outcome: 'contacted' })
      .expect(200);
    await request(h.app.callback())
      .post(`/api/v1/tasks/${late}/reassign`)
      .set(as(zhang))
      .send({ to: 'lina' })
      .expect(403);

    const detail = await request(h.app.callback()).get(`/api/v1/tasks/${mine}`).set(as(zhang)).expect(200);
    expect(detail.body.history.map((x: { action: string }) => x.action)).toEqual(['created', 'completed']);

    const from = new Date(now.getTime() - 48 * HOUR).toISOString();
    const to = new Date(now.getTime() + HOUR).toISOString();
    const kpi = await request(h.app.callback())
      .get(`/api/v1/kpis/tasks?corpId=${CORP_A}&from=${from}&to=${to}`)
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(200);
    expect(kpi.body.total).toMatchObject({ due: 3, doneOnTime: 1, doneLate: 1, overdueOpen: 0 });
    expect(kpi.body.byAdvisor.find((k: { advisorUserid: string }) => k.advisorUserid === 'zhangwei')).toMatchObject({
      due: 2,
      doneOnTime: 1,
      doneLate: 1,
    });
  });

  it('managers reassign within their departments; CSV export carries no customer data', async () => {
    const id = await task('zhangwei', new Date(h.clock.nowMs() + HOUR));
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    await request(h.app.callback())
      .post(`/api/v1/tasks/${id}/reassign`)
      .set(as(manager))
      .send({ to: 'chenjing' })
      .expect(403);
    const res = await request(h.app.callback())
      .post(`/api/v1/tasks/${id}/reassign`)
      .set(as(manager))
      .send({ to: 'lina' })
      .expect(200);
    expect(res.body.advisorUserid).toBe('lina');
    const csv = await request(h.app.callback()).get('/api/v1/tasks.csv').set(as(manager)).expect(200);
    expect(csv.text.split('\n')[0]).toContain('advisorUserid');
    expect(csv.text).toContain(id);
  });
});

describe('/api/v1/tasks for the console desk', () => {
  it('filters by department, pages with a cursor and names customers on request (an audited read)', async () => {
    const due = new Date(h.clock.nowMs() + 5 * HOUR);
    const ids = [await task('lina', due), await task('lina', due), await task('chenjing', due)];
    await CustomerModel.updateOne(
      { _id: (await TaskModel.findById(ids[0]).lean())?.customerId },
      { $set: { nameEnc: h.pd.cipher.encrypt('孙先生') } },
    );
    const admin = await h.token('dealer_admin', [CORP_A]);
    const dept3 = await request(h.app.callback())
      .get(`/api/v1/tasks?corpId=${CORP_A}&department=3`)
      .set(as(admin))
      .expect(200);
    expect(dept3.body.tasks.every((t: { advisorUserid: string }) => t.advisorUserid === 'chenjing')).toBe(true);

    const first = await request(h.app.callback())
      .get('/api/v1/tasks?advisor=lina&limit=1&include=customer')
      .set(as(admin))
      .expect(200);
    expect(first.body.tasks).toHaveLength(1);
    expect(first.body.next).toBe(first.body.tasks[0].id);
    const second = await request(h.app.callback())
      .get(`/api/v1/tasks?advisor=lina&limit=1&include=customer&before=${first.body.next}`)
      .set(as(admin))
      .expect(200);
    const named = [...first.body.tasks, ...second.body.tasks].find((t: { id: string }) => t.id === ids[0]);
    expect(named.customer).toMatchObject({ name: '孙先生' });
    expect(
      await AuditEntryModel.countDocuments({ action: 'task.list_customers', 'target.corpId': CORP_A }),
    ).toBeGreaterThanOrEqual(2);
    const plain = await request(h.app.callback()).get('/api/v1/tasks?advisor=lina&limit=1').set(as(admin)).expect(200);
    expect(plain.body.tasks[0].customer).toBeUndefined();
    await request(h.app.callback()).get('/api/v1/tasks?include=everything').set(as(admin)).expect(422);
  });

  it('lists the advisors a manager may pick: their departments only', async () => {
    const res = await request(h.app.callback())
      .get(`/api/v1/advisors?corpId=${CORP_A}`)
      .set(as(await h.token('manager', [CORP_A], 'wangqiang')))
      .expect(200);
    expect(res.body.advisors.map((a: { userid: string }) => a.userid).sort()).toEqual([
      'lina',
      'wangqiang',
      'zhangwei',
    ]);
    await request(h.app.callback())
      .get('/api/v1/advisors')
      .set(as(await h.token('advisor', [CORP_A], 'lina')))
      .expect(403);
    await request(h.app.callback())
      .get('/api/v1/advisors?corpId=wwdealerB0002')
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(403);
  });

  it("bulk-reassigns an advisor's open tasks: validated, scoped, recorded in each history and audited", async () => {
    const due = new Date(h.clock.nowMs() + 2 * HOUR);
    const open = [await task('zhangwei', due), await task('zhangwei', due), await task('zhangwei', due)];
    const closed = await task('zhangwei', due, { status: 'done', completedAt: h.clock.now() });
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const bulk = (token: string, body: unknown) =>
      request(h.app.callback())
        .post('/api/v1/tasks/reassign-bulk')
        .set(as(token))
        .send(body as object);

    const same = await bulk(manager, { corpId: CORP_A, fromAdvisor: 'zhangwei', toAdvisor: 'zhangwei' }).expect(422);
    expect(same.body.error.details[0]).toMatchObject({ path: '/toAdvisor' });
    await bulk(manager, { corpId: CORP_A, fromAdvisor: 'zhangwei', toAdvisor: 'lina', taskIds: ['nope'] }).expect(422);
    await bulk(manager, { corpId: CORP_A, fromAdvisor: 'chenjing', toAdvisor: 'lina' }).expect(403);
    await bulk(manager, { corpId: CORP_A, fromAdvisor: 'zhangwei', toAdvisor: 'chenjing' }).expect(403);
    await bulk(manager, { corpId: 'wwdealerB0002', fromAdvisor: 'zhangwei', toAdvisor: 'lina' }).expect(403);
    await bulk(await h.token('advisor', [CORP_A], 'zhangwei'), {
      corpId: CORP_A,
      fromAdvisor: 'zhangwei',
      toAdvisor: 'lina',
    }).expect(403);

    // Selected rows first: one task (plus a closed one, which is skipped).
    const some = await bulk(manager, {
      corpId: CORP_A,
      fromAdvisor: 'zhangwei',
      toAdvisor: 'lina',
      taskIds: [open[0], closed],
    }).expect(200);
    expect(some.body).toMatchObject({ reassigned: 1, skipped: 1, taskIds: [open[0]] });
    // Then everything left open ("all open tasks of zhangwei").
    const all = await bulk(manager, { corpId: CORP_A, fromAdvisor: 'zhangwei', toAdvisor: 'lina' }).expect(200);
    expect(all.body.taskIds).toEqual(expect.arrayContaining([open[1], open[2]]));
    expect(all.body.remaining).toBe(0);
    expect(await TaskModel.countDocuments({ corpId: CORP_A, advisorUserid: 'zhangwei', status: 'open' })).toBe(0);
    const moved = await TaskModel.findById(open[2]).lean();
    expect(moved?.history.at(-1)).toMatchObject({
      action: 'reassigned',
      actor: 'api:wangqiang',
      detail: { from: 'zhangwei', to: 'lina' },
    });
    expect((await TaskModel.findById(closed).lean())?.advisorUserid).toBe('zhangwei');
    const audit = await AuditEntryModel.findOne({ action: 'task.reassign_bulk' }).sort({ at: -1 }).lean();
    expect(audit?.detail).toMatchObject({ from: 'zhangwei', to: 'lina' });
  });

  it('tasks.csv neutralises formulas that rule authors put in titles', async () => {
    const id = await task('zhangwei', new Date(h.clock.nowMs() + HOUR), {
      title: '=HYPERLINK("http://evil.example","回访")',
    });
    const csv = await request(h.app.callback())
      .get('/api/v1/tasks.csv')
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(200);
    const line = csv.text.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line).toContain(`"'=HYPERLINK(""http://evil.example"",""回访"")"`);
    expect(line).not.toMatch(/,=/);
  });
});

describe('a broadcast confirmation task', () => {
  it('names no customer and refuses completion by hand with a 409 task_closes_itself; snoozing still works', async () => {
    const now = h.clock.now();
    const id = String(
      (
        await TaskModel.create({
          corpId: CORP_A,
          kind: 'broadcast_confirm',
          broadcastId: new Types.ObjectId(),
          messageBatchId: new Types.ObjectId(),
          advisorUserid: 'lina',
          title: '确认营销群发：五一保养节',
          dueAt: now,
          slaMs: 24 * HOUR,
          remindAt: now,
          ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
          history: [{ at: now, actor: 'system', action: 'created' }],
        })
      )._id,
    );
    const lina = await h.token('advisor', [CORP_A], 'lina');
    const detail = await request(h.app.callback()).get(`/api/v1/tasks/${id}`).set(as(lina)).expect(200);
    expect(detail.body).toMatchObject({ kind: 'broadcast_confirm', view: { customer: '群发助手' } });
    expect(detail.body.customerId).toBeUndefined();
    const refused = await request(h.app.callback())
      .post(`/api/v1/tasks/${id}/complete`)
      .set(as(lina))
      .send({ outcome: 'contacted' })
      .expect(409);
    expect(refused.body.error.code).toBe('task_closes_itself');
    await request(h.app.callback()).post(`/api/v1/tasks/${id}/unreachable`).set(as(lina)).expect(409);
    await request(h.app.callback()).post(`/api/v1/tasks/${id}/snooze`).set(as(lina)).send({ days: 1 }).expect(200);
    expect((await TaskModel.findById(id).lean())?.status).toBe('open');
  });
});
