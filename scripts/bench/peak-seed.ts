/**
 * The world `npm run bench:peak` runs in (docs/scale.md §4, "The 10:00 peak, measured"): dealer
 * corps with their advisors in the WeCom sandbox and in the bot's database, customers, and the
 * follow-up schedules that all fall due at 10:00 local. Seeding is bulk inserts through the
 * driver (documents built by the models, so defaults and casting are the bot's own); it is
 * kept apart from the bench so a test can run it at a tiny size.
 */
import { randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { CorpService } from '../../src/domain/corps/corp.service.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { changeNotices } from '../../src/infra/change-notices.js';
import type { DataCipher } from '../../src/infra/data-crypto.js';
import type { SeedScenario } from '../wecom-sandbox/index.js';

/** The full size: 200 corps, 500,000 customers, 100,000 follow-ups due at 10:00. */
export const FULL_PEAK = { corps: 200, customers: 500_000, due: 100_000, advisorsPerCorp: 25 } as const;

export interface PeakSizes {
  corps: number;
  /** Advisors (WeCom members) per corp; the capacity model's dealer has 25 (docs/scale.md §4). */
  advisorsPerCorp: number;
  customers: number;
  /** Follow-up schedules due at 10:00 local, spread evenly over the corps and their advisors. */
  due: number;
}

/** The full size times `scale` (0 < scale ≤ 1), at least one corp, advisor, customer and due follow-up. */
export function peakSizes(scale: number): PeakSizes {
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) throw new Error(`--scale must be in (0, 1], got ${scale}`);
  const corps = Math.max(1, Math.round(FULL_PEAK.corps * scale));
  const customers = Math.max(corps, Math.round(FULL_PEAK.customers * scale));
  return {
    corps,
    advisorsPerCorp: FULL_PEAK.advisorsPerCorp,
    customers,
    due: Math.min(customers, Math.max(1, Math.round(FULL_PEAK.due * scale))),
  };
}

/** `ww` + 16 hex digits, as the sandbox (and WeCom) shape corp ids. */
export const peakCorpId = (i: number): string => `wwbe${i.toString(16).padStart(14, '0')}`;
export const peakAdvisor = (j: number): string => `adv${String(j).padStart(3, '0')}`;
const peakSecret = (i: number): string => `peak-bench-secret-${i}`;

/** One callback Token / EncodingAESKey for every bench corp (made up; the bench sends no callbacks). */
const CALLBACK = { token: 'PeakBenchToken', encodingAesKey: 'PeakBenchAesKey0000000000000000000000000000' };

/** The bench corps as the sandbox seeds them (merged into another scenario). */
export function peakSandboxCorps(sizes: PeakSizes, callbackBase: string): SeedScenario['corps'] {
  return Array.from({ length: sizes.corps }, (_, i) => ({
    corpId: peakCorpId(i),
    name: `峰值测试经销商 ${i}`,
    agentId: 1000002,
    secret: peakSecret(i),
    // A callback URL makes interactive cards valid (43012 otherwise); nothing is delivered to it.
    callback: { ...CALLBACK, url: `${callbackBase}/wecom/callback/${peakCorpId(i)}` },
    departments: [{ id: 1, name: '销售部', parentid: 0, order: 0 }],
    members: Array.from({ length: sizes.advisorsPerCorp }, (_, j) => ({
      userid: peakAdvisor(j),
      name: `顾问${j}`,
      department: [1],
      directLeader: [],
      position: '销售顾问',
      status: 1,
      visible: true,
      customerContact: true,
    })),
    tagGroups: [],
    customers: [],
  })) as SeedScenario['corps'];
}

/**
 * Inserts `docs` in batches through the driver, unordered (the bench's seeding must be fast): one
 * batch in flight while the next is built, so the client's document building overlaps the
 * server's inserts (500,000 customers in about 3 minutes on the dev server, docs/scale.md §4).
 */
async function insertInBatches(collection: string, docs: () => Iterable<Record<string, unknown>>): Promise<number> {
  const coll = mongoose.connection.collection(collection);
  let batch: Record<string, unknown>[] = [];
  let inFlight: Promise<unknown> = Promise.resolve();
  let n = 0;
  for (const doc of docs()) {
    batch.push(doc);
    if (batch.length === 10_000) {
      await inFlight;
      inFlight = coll.insertMany(batch, { ordered: false });
      n += batch.length;
      batch = [];
    }
  }
  await inFlight;
  if (batch.length) await coll.insertMany(batch, { ordered: false });
  return n + batch.length;
}

export interface SeededPeak {
  corpIds: string[];
  customers: number;
  due: number;
}

/**
 * Seeds the bot's database (the default mongoose connection): the corps through the service the
 * CLI uses, their advisors, `customers` customers spread over the corps and advisors, and `due`
 * follow-up schedules on the first customers of each corp, each due at `dueAt` (re-timed per
 * phase by `rearmPeak`).
 */
export async function seedPeakMongo(
  sizes: PeakSizes,
  opts: { cipher: DataCipher; prefix: string; dueAt: Date },
): Promise<SeededPeak> {
  await Promise.all([
    CustomerModel.syncIndexes(),
    ScheduleModel.syncIndexes(),
    TaskModel.syncIndexes(),
    AdvisorModel.syncIndexes(),
  ]);
  const corps = new CorpService({ cipher: opts.cipher, defaultTimezone: 'Asia/Shanghai', prefix: opts.prefix });
  const corpIds: string[] = [];
  for (let i = 0; i < sizes.corps; i++) {
    await corps.upsert({
      corpId: peakCorpId(i),
      kind: 'dealer',
      displayName: `峰值测试经销商 ${i}`,
      agentId: 1000002,
      secret: peakSecret(i),
      callbackToken: CALLBACK.token,
      callbackAesKey: CALLBACK.encodingAesKey,
      timezone: 'Asia/Shanghai',
    });
    corpIds.push(peakCorpId(i));
  }
  await insertInBatches('advisors', function* () {
    for (const corpId of corpIds)
      for (let j = 0; j < sizes.advisorsPerCorp; j++)
        yield new AdvisorModel({ corpId, userid: peakAdvisor(j), name: `顾问${j}`, departments: [1] }).toObject();
  });
  // Written behind mongoose's hooks: the advisors' cache is told here (docs/scale.md §4).
  changeNotices.announce('advisors');

  // Customer k belongs to corp k mod corps; within a corp the first `due / corps` get a due follow-up.
  const perCorpDue = Math.floor(sizes.due / sizes.corps);
  const extraDue = sizes.due - perCorpDue * sizes.corps;
  const dueIds: Array<{ customerId: Types.ObjectId; corpId: string; advisor: string; n: number }> = [];
  const customers = await insertInBatches('customers', function* () {
    for (let k = 0; k < sizes.customers; k++) {
      const corpIndex = k % sizes.corps;
      const inCorp = Math.floor(k / sizes.corps);
      const corpId = corpIds[corpIndex] ?? '';
      const advisor = peakAdvisor(inCorp % sizes.advisorsPerCorp);
      const doc = new CustomerModel({
        corpId,
        externalUserId: `wmPeak${k.toString(36).padStart(8, '0')}`,
        responsibleUserid: advisor,
        lifecycle: { stage: 'owner', reason: 'delivery' },
      }).toObject();
      if (inCorp < perCorpDue + (corpIndex < extraDue ? 1 : 0))
        dueIds.push({ customerId: doc._id as Types.ObjectId, corpId, advisor, n: k });
      yield doc;
    }
  });
  const due = await insertInBatches('schedules', function* () {
    for (const d of dueIds)
      yield new ScheduleModel({
        key: `peak-${d.n}`,
        corpId: d.corpId,
        customerId: d.customerId,
        kind: 'follow_up',
        occurrenceId: `peak:${d.n}`,
        dueAt: opts.dueAt,
        status: 'planned',
        advisorUserid: d.advisor,
        payload: { title: '保养提醒回访', sla: '24h' },
      }).toObject();
  });
  return { corpIds, customers, due };
}

/**
 * A fresh due set for the next phase: every bench task gone, every bench schedule `planned` again
 * and due at `dueAt`. Run while no worker consumes the queues (the caller empties `scheduled`).
 */
export async function rearmPeak(corpIds: string[], dueAt: Date): Promise<number> {
  await TaskModel.deleteMany({ corpId: { $in: corpIds } });
  const res = await ScheduleModel.updateMany(
    { corpId: { $in: corpIds }, key: /^peak-/ },
    { $set: { status: 'planned', dueAt }, $unset: { enqueuedAt: 1, firedAt: 1 } },
  );
  return res.modifiedCount;
}

/** A data key and lookup key for a bench bot (made up per run). */
export const benchKeys = (): { dataKeys: string; lookupKey: string } => ({
  dataKeys: `k1:${randomBytes(32).toString('base64')}`,
  lookupKey: randomBytes(32).toString('base64'),
});

/**
 * Follow-up tasks of the bench corps: how long after its due time each was created and its advisor
 * told (card or digest), both on the bot's clock (the history's and the card's stamps).
 */
export async function notifiedDelays(
  corpIds: string[],
): Promise<{ open: number; delaysMs: number[]; sentAt: number[]; createdMs: number[] }> {
  const rows = await TaskModel.find(
    { corpId: { $in: corpIds } },
    { dueAt: 1, notifyPending: 1, card: 1, history: 1 },
  ).lean();
  const delaysMs: number[] = [];
  const sentAt: number[] = [];
  const createdMs: number[] = [];
  let open = 0;
  for (const t of rows) {
    const created = t.history?.find((h) => h.action === 'created')?.at;
    if (created) createdMs.push(created.getTime() - t.dueAt.getTime());
    const digest = t.history?.find((h) => h.action === 'digest_sent')?.at;
    const at = t.card?.sentAt ?? digest;
    if (!at || t.notifyPending) {
      open++;
      continue;
    }
    sentAt.push(at.getTime());
    delaysMs.push(at.getTime() - t.dueAt.getTime());
  }
  return { open, delaysMs, sentAt, createdMs };
}
