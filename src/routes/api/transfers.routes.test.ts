import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../../scripts/wecom-sandbox/index.js';
import { CorpService } from '../../domain/corps/corp.service.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { TransferModel } from '../../domain/tasks/transfer.model.js';
import { defaultTaskSettings } from '../../domain/tasks/task-settings.js';
import { startTransfer, TRANSFER_START_JOB, type StartTransferInput } from '../../domain/tasks/transfer.service.js';
import { DataCipher } from '../../infra/data-crypto.js';
import { createLogger } from '../../infra/logger.js';
import { QueueName } from '../../queues/queue-names.js';
import { DEFAULT_TUNING } from '../../domain/tuning.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { createWecomClient } from '../../wecom/client.js';
import { CORP_A, startApiHarness } from './api.test-support.js';

/** A dealer corp that exists both in the bot's corps and in the sandbox (the sandbox wants ww + 16 hex). */
const CORP = 'ww00000000000000a9';
const SECRET = 'transfer-secret-1';
const C1 = 'wmTransferCustomer001';
const C2 = 'wmTransferCustomer002';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
let sandbox: RunningSandbox;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const logger = createLogger({ level: 'silent', name: 'test' });

/** Runs the start job the route enqueued, as the worker would: the real client against the sandbox. */
async function runStartJob(transferId: string) {
  const job = await h.queues.get(QueueName.scheduled).getJob(`transfer-start-${transferId}`);
  expect(job?.name).toBe(TRANSFER_START_JOB);
  const data = job?.data as { corpId: string; transferId: string; input: StartTransferInput; requestedBy: string };
  const client = createWecomClient({
    apiBase: sandbox.url,
    redis: h.redis,
    logger,
    clock: h.clock,
    keyPrefix: h.config.redis.queuePrefix,
    timeoutMs: 3000,
  });
  await startTransfer(
    {
      corpId: data.corpId,
      timeZone: 'Asia/Shanghai',
      settings: defaultTaskSettings,
      api: client.forCorp({ corpId: CORP, secret: SECRET, agentId: 1000002 }),
      clock: h.clock,
      queues: h.queues,
      redis: h.redis,
      keyPrefix: h.config.redis.queuePrefix,
      logger,
      pd: h.pd,
      publicBaseUrl: 'http://console.test',
      tuning: DEFAULT_TUNING,
    },
    data.input,
    data.requestedBy,
    data.transferId,
  );
}

beforeAll(async () => {
  db = await useTestDatabase('transfers-api');
  h = await startApiHarness();
  await new CorpService({
    cipher: new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
    defaultTimezone: 'Asia/Shanghai',
    prefix: h.config.redis.queuePrefix,
  }).upsert({
    corpId: CORP,
    displayName: 'Transfer dealer',
    agentId: 1000002,
    secret: SECRET,
    callbackToken: 'Token1',
    callbackAesKey: 'a'.repeat(43),
  });
  sandbox = await startSandbox({
    port: 0,
    clock: h.clock,
    logger,
    seed: {
      corps: [
        {
          corpId: CORP,
          secret: SECRET,
          departments: [
            { id: 1, name: 'Root' },
            { id: 2, name: '销售一部', parentid: 1 },
            { id: 3, name: '销售二部', parentid: 1 },
          ],
          members: [
            { userid: 'wangqiang', name: '王强', department: [2], isLeaderInDept: [1] },
            { userid: 'liuyang', name: '刘洋', department: [2] },
            { userid: 'zhangwei', name: '张伟', department: [2] },
            { userid: 'chenjing', name: '陈静', department: [3] },
          ],
          customers: [
            { external_userid: C1, name: '客户甲', follows: [{ userid: 'liuyang' }] },
            { external_userid: C2, name: '客户乙', follows: [{ userid: 'liuyang' }] },
          ],
        },
      ],
    },
  });
  await AdvisorModel.create([
    { corpId: CORP, userid: 'wangqiang', departments: [2], leadsDepartments: [2] },
    { corpId: CORP, userid: 'liuyang', departments: [2] },
    { corpId: CORP, userid: 'zhangwei', departments: [2] },
    { corpId: CORP, userid: 'chenjing', departments: [3] },
  ]);
  for (const ext of [C1, C2]) {
    const c = await CustomerModel.create({ corpId: CORP, externalUserId: ext, responsibleUserid: 'liuyang' });
    await RelationshipModel.create({
      corpId: CORP,
      userid: 'liuyang',
      externalUserId: ext,
      customerId: c._id,
      status: 'active',
      addedAt: h.clock.now(),
    });
  }
});
afterAll(async () => {
  await sandbox?.stop();
  await h?.close();
  await db?.drop();
});

describe('POST /api/v1/transfers', () => {
  it('answers bad input with a 4xx that says what to fix', async () => {
    const admin = await h.token('dealer_admin', [CORP]);
    const bad = await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(admin))
      .send({ corpId: CORP, kind: 'moved', handoverUserid: 'liuyang', takeoverUserid: 'zhangwei' })
      .expect(422);
    expect(JSON.stringify(bad.body.error.details)).toContain('in_service');
    const same = await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(admin))
      .send({ corpId: CORP, kind: 'in_service', handoverUserid: 'liuyang', takeoverUserid: 'liuyang' })
      .expect(422);
    expect(JSON.stringify(same.body.error.details)).toContain('40130');
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(admin))
      .send({ corpId: CORP, kind: 'in_service', handoverUserid: 'liuyang', takeoverUserid: 'nobody' })
      .expect(404);
    const none = await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(admin))
      .send({ corpId: CORP, kind: 'in_service', handoverUserid: 'chenjing', takeoverUserid: 'zhangwei' })
      .expect(422);
    expect(none.body.error.details[0].message).toContain('no active customers');
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(admin))
      .send({ corpId: CORP, kind: 'in_service', handoverUserid: 'liuyang', takeoverUserid: 'zhangwei', extra: 1 })
      .expect(422);
  });

  it('keeps to role and scope: other corps, read-only roles and other departments are refused', async () => {
    const body = { corpId: CORP, kind: 'in_service', handoverUserid: 'liuyang', takeoverUserid: 'zhangwei' };
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .send(body)
      .expect(403);
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(await h.token('oem', [])))
      .send(body)
      .expect(403);
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(await h.token('advisor', [CORP], 'liuyang')))
      .send(body)
      .expect(403);
    const manager = await h.token('manager', [CORP], 'wangqiang');
    const otherDept = await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(manager))
      .send({ ...body, handoverUserid: 'chenjing' })
      .expect(403);
    expect(otherDept.body.error.code).toBe('advisor_forbidden');
    await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(manager))
      .send({ ...body, takeoverUserid: 'chenjing' })
      .expect(403);
  });

  it('starts through the WeCom sandbox and reports each customer, in words', async () => {
    const manager = await h.token('manager', [CORP], 'wangqiang');
    const res = await request(h.app.callback())
      .post('/api/v1/transfers')
      .set(as(manager))
      .send({
        corpId: CORP,
        kind: 'in_service',
        handoverUserid: 'liuyang',
        takeoverUserid: 'zhangwei',
        externalUserIds: [C1, C2, 'wmNoSuchCustomer01'],
      })
      .expect(202);
    expect(res.body).toMatchObject({ status: 'requested', customers: 3 });
    // Before the worker ran the start, the transfer is not there yet (the console keeps polling).
    await request(h.app.callback()).get(`/api/v1/transfers/${res.body.id}`).set(as(manager)).expect(404);

    await runStartJob(res.body.id);
    const calls = sandbox.context.calls.list({ endpoint: 'externalcontact/transfer_customer', corpId: CORP });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.errcode ?? 0).toBe(0);

    const got = await request(h.app.callback()).get(`/api/v1/transfers/${res.body.id}`).set(as(manager)).expect(200);
    expect(got.body).toMatchObject({
      id: res.body.id,
      corpId: CORP,
      kind: 'in_service',
      handoverUserid: 'liuyang',
      takeoverUserid: 'zhangwei',
      status: 'polling',
    });
    const byExt = new Map(got.body.customers.map((c: { externalUserId: string }) => [c.externalUserId, c]));
    expect(byExt.get(C1)).toMatchObject({ result: 'waiting', startErrcode: 0 });
    expect(byExt.get(C2)).toMatchObject({ result: 'waiting', startErrcode: 0 });
    expect(byExt.get('wmNoSuchCustomer01')).toMatchObject({ result: 'failed_to_start', startErrcode: 40096 });
    expect((byExt.get('wmNoSuchCustomer01') as { explanation: string }).explanation).toContain('无效');
    expect(typeof (byExt.get(C1) as { customerId?: string }).customerId).toBe('string');

    // Another corp's principal cannot see it; the list shows it to the manager.
    await request(h.app.callback())
      .get(`/api/v1/transfers/${res.body.id}`)
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(404);
    const list = await request(h.app.callback()).get(`/api/v1/transfers?corpId=${CORP}`).set(as(manager)).expect(200);
    expect(list.body.transfers.map((t: { id: string }) => t.id)).toContain(res.body.id);
    expect(Types.ObjectId.isValid(res.body.id)).toBe(true);
  });
});

describe('GET /api/v1/transfers scope', () => {
  /** Transfers of this dealer: one in the manager's department 2, one in department 3. */
  async function seedTransfers() {
    const base = {
      corpId: CORP,
      kind: 'in_service' as const,
      requestedBy: 'user:test',
      status: 'finished' as const,
      customers: [],
    };
    const [mine, other] = await TransferModel.create([
      { ...base, handoverUserid: 'liuyang', takeoverUserid: 'zhangwei' },
      { ...base, handoverUserid: 'chenjing', takeoverUserid: 'chenjing2' },
    ]);
    return { mine: String(mine?._id), other: String(other?._id) };
  }

  it("regression: ?corpId= of another dealer no longer replaces the caller's corp filter (cross-corp read)", async () => {
    const { mine } = await seedTransfers();
    for (const t of [await h.token('dealer_admin', [CORP_A]), await h.token('manager', [CORP_A], 'wangqiang')]) {
      const res = await request(h.app.callback()).get(`/api/v1/transfers?corpId=${CORP}`).set(as(t));
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(mine);
    }
    const own = await request(h.app.callback())
      .get('/api/v1/transfers')
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(200);
    expect(own.body.transfers).toEqual([]);
  });

  it('shows a manager only the transfers of their departments, in the list and one by one', async () => {
    const { mine, other } = await seedTransfers();
    const manager = await h.token('manager', [CORP], 'wangqiang');
    const list = await request(h.app.callback()).get(`/api/v1/transfers?corpId=${CORP}`).set(as(manager)).expect(200);
    const ids = list.body.transfers.map((t: { id: string }) => t.id);
    expect(ids).toContain(mine);
    expect(ids).not.toContain(other);
    await request(h.app.callback()).get(`/api/v1/transfers/${other}`).set(as(manager)).expect(404);
    await request(h.app.callback()).get(`/api/v1/transfers/${mine}`).set(as(manager)).expect(200);
    const dealerAdmin = await h.token('dealer_admin', [CORP]);
    const all = await request(h.app.callback()).get('/api/v1/transfers').set(as(dealerAdmin)).expect(200);
    expect(all.body.transfers.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([mine, other]));
  });

  it('answers a malformed corpId with 422, not a query', async () => {
    const admin = await h.token('dealer_admin', [CORP]);
    await request(h.app.callback()).get('/api/v1/transfers?corpId=a&corpId=b').set(as(admin)).expect(422);
  });
});
