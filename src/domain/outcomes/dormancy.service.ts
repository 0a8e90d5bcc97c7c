import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import type { Queues } from '../../queues/queue-factory.js';
import { CustomerModel } from '../customers/customer.model.js';
import { withOutbox } from '../events/outbox.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { OutcomeModel } from './outcome.model.js';
import type { OutcomeSettings } from './outcome-settings.js';

/** Lifecycle reasons of docs/outcomes.md, "Dormant owners". */
export const DORMANT_REASON = 'no_repair_order';
export const RETURNED_REASON = 'arrival';
const CHUNK = 1000;

export interface DormancyDeps {
  corpId: string;
  now: () => Date;
  /** Relays `service.overdue` right after the commit (the worker's relay catches up otherwise). */
  queues?: Queues;
}

/**
 * Owners whose last visit — the newest active repair order, else the vehicle's last service date
 * from the DMS import, else its delivery — is older than `dormantMonths` become `dormant` (reason
 * `no_repair_order`), and `service.overdue` is recorded in the outbox with that change, once per
 * transition (docs/outcomes.md, "Dormant owners"). Owners without any of these dates are left alone.
 */
export async function markDormantOwners(
  deps: DormancyDeps,
  settings: Pick<OutcomeSettings, 'dormantMonths'>,
): Promise<{ checked: number; dormant: number }> {
  const now = deps.now();
  const cutoff = dayjs(now).subtract(settings.dormantMonths, 'month').toDate();
  let checked = 0;
  let dormant = 0;
  let after: Types.ObjectId | undefined;
  for (;;) {
    const owners = await CustomerModel.find(
      { corpId: deps.corpId, 'lifecycle.stage': 'owner', ...(after ? { _id: { $gt: after } } : {}) },
      { _id: 1, externalUserId: 1 },
    )
      .sort({ _id: 1 })
      .limit(CHUNK)
      .lean();
    if (owners.length === 0) break;
    after = owners[owners.length - 1]?._id;
    checked += owners.length;
    const lastVisit = await lastVisits(
      deps.corpId,
      owners.map((o) => o._id),
    );
    for (const owner of owners) {
      const last = lastVisit.get(String(owner._id));
      if (!last || last >= cutoff) continue;
      if (await becomeDormant(deps, owner, last, settings.dormantMonths, now)) dormant++;
    }
  }
  return { checked, dormant };
}

/** The newest visit date per customer: active repair orders, the vehicles' last service and delivery dates. */
async function lastVisits(corpId: string, customerIds: Types.ObjectId[]): Promise<Map<string, Date>> {
  const [orders, vehicles] = await Promise.all([
    OutcomeModel.aggregate<{ _id: Types.ObjectId; last: Date }>([
      { $match: { corpId, customerId: { $in: customerIds }, type: 'repair_order', status: 'active' } },
      { $group: { _id: '$customerId', last: { $max: '$occurredAt' } } },
    ]),
    VehicleModel.aggregate<{ _id: Types.ObjectId; service: Date | null; delivery: Date | null }>([
      { $match: { corpId, customerId: { $in: customerIds } } },
      { $group: { _id: '$customerId', service: { $max: '$lastServiceDate' }, delivery: { $max: '$deliveryDate' } } },
    ]),
  ]);
  const out = new Map<string, Date>();
  const keep = (id: Types.ObjectId, d: Date | null | undefined) => {
    if (!d) return;
    const prev = out.get(String(id));
    if (!prev || d > prev) out.set(String(id), d);
  };
  for (const o of orders) keep(o._id, o.last);
  for (const v of vehicles) {
    keep(v._id, v.service);
    keep(v._id, v.delivery);
  }
  return out;
}

async function becomeDormant(
  deps: DormancyDeps,
  owner: { _id: Types.ObjectId; externalUserId: string },
  lastVisit: Date,
  months: number,
  at: Date,
): Promise<boolean> {
  return withOutbox({ queues: deps.queues }, async (events) => {
    const update = await CustomerModel.updateOne(
      { _id: owner._id, corpId: deps.corpId, 'lifecycle.stage': 'owner' },
      {
        $set: { lifecycle: { stage: 'dormant', reason: DORMANT_REASON, changedAt: at } },
        $push: { lifecycleHistory: { stage: 'dormant', reason: DORMANT_REASON, at } },
      },
    );
    if (update.modifiedCount === 0) return false;
    events.record({
      type: 'service.overdue',
      corpId: deps.corpId,
      // Once per last visit: a later return and a new lapse is a new occurrence.
      sourceId: `dormant:${String(owner._id)}:${lastVisit.toISOString()}`,
      occurredAt: at.toISOString(),
      customerId: String(owner._id),
      externalUserId: owner.externalUserId,
      data: { dormantMonths: months },
    });
    return true;
  });
}

/**
 * A dormant owner is an owner again (reason `arrival`) once an active repair order would have kept
 * them from dormancy: one within `dormantMonths` before the day they became dormant, or later
 * (a late-sent older one counts too). Called for each stored repair order, and by the daily run.
 */
export async function returnFromDormancy(
  corpId: string,
  customerIds: readonly Types.ObjectId[],
  settings: Pick<OutcomeSettings, 'dormantMonths'>,
  at: Date,
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const dormant = await CustomerModel.find(
    { corpId, _id: { $in: customerIds }, 'lifecycle.stage': 'dormant' },
    { _id: 1, lifecycle: 1 },
  ).lean();
  let returned = 0;
  for (const c of dormant) {
    const since = dayjs(c.lifecycle?.changedAt ?? at)
      .subtract(settings.dormantMonths, 'month')
      .toDate();
    const arrived = await OutcomeModel.exists({
      corpId,
      customerId: c._id,
      type: 'repair_order',
      status: 'active',
      occurredAt: { $gte: since },
    });
    if (!arrived) continue;
    const update = await CustomerModel.updateOne(
      { _id: c._id, corpId, 'lifecycle.stage': 'dormant' },
      {
        $set: { lifecycle: { stage: 'owner', reason: RETURNED_REASON, changedAt: at } },
        $push: { lifecycleHistory: { stage: 'owner', reason: RETURNED_REASON, at } },
      },
    );
    returned += update.modifiedCount;
  }
  return returned;
}

/** The daily run's catch-up: every dormant customer of the corp with an arrival since. */
export async function returnArrivedDormantOwners(
  corpId: string,
  settings: Pick<OutcomeSettings, 'dormantMonths'>,
  at: Date,
): Promise<number> {
  const dormant = await CustomerModel.find({ corpId, 'lifecycle.stage': 'dormant' }, { _id: 1 }).lean();
  return returnFromDormancy(
    corpId,
    dormant.map((c) => c._id),
    settings,
    at,
  );
}
