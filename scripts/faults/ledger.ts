import mongoose from 'mongoose';
import type { Types } from 'mongoose';
import { DEMO_CORP_ID } from '../wecom-sandbox/world/demo-seed.js';
import type { RunningSandbox } from '../wecom-sandbox/index.js';
import { OWNER_TAG, type BotStack } from './bot-stack.js';

/** Advisors of the sandbox's demo corp who take the adds, in turn. */
const ADVISORS = ['zhangwei', 'lina', 'liuyang'] as const;

/** One add callback the suite played, and what WeCom saw of its delivery. */
export interface LedgerEntry {
  externalUserId: string;
  phase: 'before' | 'during' | 'after';
  /** The bot answered 200 to one of WeCom's deliveries (then WeCom never sends it again). */
  acked: boolean;
  /** When the acknowledged delivery was answered (ms since the epoch). */
  ackedAtMs?: number;
}

/** What became of the acknowledged adds, from MongoDB and the sandbox's world. */
export interface LedgerResult {
  sent: number;
  acked: number;
  /** Acknowledged adds missing their customer, their 保客 tag or their follow-up schedule. */
  lost: number;
  lostDetail: { customer: number; tag: number; followUp: number };
  /** Effects present more than once: welcomes, customers, follow-up schedules. */
  duplicated: number;
  /** Acknowledged adds without a welcome (a missed welcome is not a loss: the code expires). */
  missedWelcomes: number;
  /** Adds played after the fault ended: fully processed / acknowledged. */
  laterComplete: number;
  laterAcked: number;
}

/**
 * The per-callback ledger (docs/reliability.md, "Fault-injection suite"): every add callback
 * the suite plays is a made-up customer with a unique external id on a delivery channel, so the
 * bot's rule must store the customer, welcome them, tag them 保客 and plan a follow-up.
 */
export class Ledger {
  readonly entries: LedgerEntry[] = [];
  private readonly pending: Promise<void>[] = [];
  private seq = 0;
  private conn: Promise<mongoose.Connection> | undefined;

  constructor(
    private readonly sandbox: RunningSandbox,
    private readonly label: string,
  ) {}

  /** Plays `count` adds, `perSecond` evenly paced; resolves when they are played (not yet delivered). */
  async play(count: number, perSecond: number, phase: LedgerEntry['phase']): Promise<void> {
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / perSecond - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait)); // pacing the load, not waiting for work
      const n = this.seq++;
      const entry: LedgerEntry = {
        externalUserId: `wmFault${this.label.replace(/[^A-Za-z0-9]/g, '').slice(-12)}${String(n).padStart(6, '0')}`
          .padEnd(32, '0')
          .slice(0, 32),
        phase,
        acked: false,
      };
      this.entries.push(entry);
      this.pending.push(
        this.sandbox.driver
          .addCustomer({
            corpId: DEMO_CORP_ID,
            userid: ADVISORS[n % ADVISORS.length] as string,
            state: 'delivery_fault',
            customer: { external_userid: entry.externalUserId, name: `测试${n}` },
          })
          .then(
            (r) => {
              entry.acked = Boolean(r.delivery?.ok);
              if (entry.acked) entry.ackedAtMs = Date.now();
            },
            () => undefined,
          ),
      );
    }
  }

  /** Resolves when every delivery (with WeCom's retries) has finished. */
  async delivered(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Reads the outcome of every acknowledged add. */
  async check(stack: BotStack): Promise<LedgerResult> {
    const acked = this.entries.filter((e) => e.acked);
    const ids = acked.map((e) => e.externalUserId);
    this.conn ??= mongoose.createConnection(stack.config.mongo.uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
    const conn = await this.conn;
    const customers = await conn
      .collection<{ externalUserId: string; _id: Types.ObjectId }>('customers')
      .find({ corpId: DEMO_CORP_ID, externalUserId: { $in: ids } }, { projection: { externalUserId: 1 } })
      .toArray();
    const customerIds = customers.map((c) => c._id);
    const schedules = await conn
      .collection<{ customerId: Types.ObjectId }>('schedules')
      .find({ corpId: DEMO_CORP_ID, customerId: { $in: customerIds } }, { projection: { customerId: 1 } })
      .toArray();
    const world = this.sandbox.world.corp(DEMO_CORP_ID);
    const group = world?.tagGroups.find((g) => g.group_name === OWNER_TAG.group);
    const ownerTagId = world?.tags.find((t) => t.group_id === group?.group_id && t.name === OWNER_TAG.name)?.id ?? '';
    const count = <T>(items: T[], key: (t: T) => string) =>
      items.reduce((m, t) => m.set(key(t), (m.get(key(t)) ?? 0) + 1), new Map<string, number>());
    const customersByExt = count(customers, (c) => c.externalUserId);
    const extByCustomer = new Map(customers.map((c) => [String(c._id), c.externalUserId]));
    const schedulesByExt = count(schedules, (s) => extByCustomer.get(String(s.customerId)) ?? '');
    const welcomesByExt = count(world?.welcomes ?? [], (w) => w.external_userid);
    const tagged = new Set(
      (world?.follows ?? []).filter((f) => f.tagIds.includes(ownerTagId)).map((f) => f.external_userid),
    );

    const complete = (id: string) =>
      (customersByExt.get(id) ?? 0) > 0 && tagged.has(id) && (schedulesByExt.get(id) ?? 0) > 0;
    const lostDetail = {
      customer: ids.filter((id) => !customersByExt.get(id)).length,
      tag: ids.filter((id) => !tagged.has(id)).length,
      followUp: ids.filter((id) => !schedulesByExt.get(id)).length,
    };
    const later = acked.filter((e) => e.phase === 'after');
    return {
      sent: this.entries.length,
      acked: acked.length,
      lost: ids.filter((id) => !complete(id)).length,
      lostDetail,
      duplicated: ids.filter(
        (id) =>
          (customersByExt.get(id) ?? 0) > 1 || (schedulesByExt.get(id) ?? 0) > 1 || (welcomesByExt.get(id) ?? 0) > 1,
      ).length,
      missedWelcomes: ids.filter((id) => !welcomesByExt.get(id)).length,
      laterComplete: later.filter((e) => complete(e.externalUserId) && welcomesByExt.get(e.externalUserId)).length,
      laterAcked: later.length,
    };
  }

  /** Domain events written to the MongoDB outbox and not yet relayed to their queue (none without an outbox). */
  async outboxPending(stack: BotStack): Promise<number> {
    this.conn ??= mongoose.createConnection(stack.config.mongo.uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
    // The events an inbound job runs itself are outstanding while their `domain_events` record is
    // leased (until finished or queued): one left by a killed worker is the relay's once its lease
    // expires. `inline` outbox records are those such jobs wrote before.
    const db = await this.conn;
    const [outbox, leased] = await Promise.all([
      db.collection('outbox_events').countDocuments({ status: { $in: ['pending', 'inline'] } }),
      db.collection('domain_events').countDocuments({ leaseUntil: { $exists: true } }),
    ]);
    return outbox + leased;
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await (await conn)?.close();
  }
}
