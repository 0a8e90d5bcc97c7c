import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Logger } from '../../infra/logger.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { loadVehicles, type VehicleDeps } from '../vehicles/vehicle.service.js';
import { attributeOutcomes } from './attribution.service.js';
import { localDates } from './local-dates.js';
import { returnFromDormancy } from './dormancy.service.js';
import { applyOutcomeAnchors } from './outcome-anchors.js';
import type { OutcomeInput } from './outcome-input.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';
import { loadOutcomeSettings, type OutcomeSettings } from './outcome-settings.js';

export interface OutcomeDeps extends VehicleDeps {
  logger?: Logger;
  /** The corp's outcome settings when the caller already read them (a batch reads them once). */
  settings?: OutcomeSettings;
}

export type ReceivedVia = 'api' | 'import' | 'webhook' | 'simulator';

export type OutcomeResult =
  | {
      status: 'created' | 'updated' | 'unchanged' | 'stale';
      externalId: string;
      outcomeId: string;
      version: number;
      matchedBy: 'vin' | 'mobile' | 'none';
    }
  | { status: 'rejected'; externalId: string; problems: Array<{ path: string; message: string }> };

/** The version order key: the version first, then a hash of the content, so equal versions with different content still converge. */
export function orderKeyOf(input: OutcomeInput): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(Object.entries(input).sort(([a], [b]) => a.localeCompare(b))))
    .digest('base64url')
    .slice(0, 16);
  return `${String(input.version).padStart(12, '0')}.${hash}`;
}

type Match = { matchedBy: 'vin' | 'mobile' | 'none'; customerId?: Types.ObjectId; vehicleId?: Types.ObjectId };
type StoredVehicle = Awaited<ReturnType<typeof loadVehicles>>[number];

/**
 * VIN → vehicle (→ its customer), else the mobile's keyed hash → the one customer with it in a
 * remark, for a batch: the vehicles are given (one `$in` read), the mobiles cost one query for
 * the relationships and one for their customers.
 */
async function matchOutcomes(
  deps: OutcomeDeps,
  inputs: readonly OutcomeInput[],
  vehicles: ReadonlyMap<string, StoredVehicle>,
): Promise<Match[]> {
  const byVin = (input: OutcomeInput) => (input.vin ? vehicles.get(input.vin) : undefined);
  const needMobile = inputs.filter((i) => i.mobile && !byVin(i)?.customerId);
  const hashes = [...new Set(needMobile.map((i) => deps.pd.hash('mobile', i.mobile as string)))];
  const owners = new Map<string, Set<string>>();
  if (hashes.length > 0) {
    const relationships = await RelationshipModel.find(
      { corpId: deps.corpId, remarkMobileHashes: { $in: hashes } },
      { customerId: 1, remarkMobileHashes: 1 },
    ).lean();
    const wanted = new Set(hashes);
    for (const r of relationships)
      for (const h of r.remarkMobileHashes ?? [])
        if (wanted.has(h) && r.customerId) owners.set(h, (owners.get(h) ?? new Set()).add(String(r.customerId)));
  }
  const single = [...owners.values()].filter((ids) => ids.size === 1).map((ids) => [...ids][0] as string);
  const customers =
    single.length > 0
      ? new Map(
          (await CustomerModel.find({ corpId: deps.corpId, _id: { $in: single } }, { _id: 1 }).lean()).map((c) => [
            String(c._id),
            c._id,
          ]),
        )
      : new Map<string, Types.ObjectId>();
  return inputs.map((input): Match => {
    const v = byVin(input);
    if (v?.customerId) return { matchedBy: 'vin', customerId: v.customerId, vehicleId: v._id };
    if (v && !input.mobile) return { matchedBy: 'none', vehicleId: v._id };
    if (input.mobile) {
      const ids = owners.get(deps.pd.hash('mobile', input.mobile));
      const customerId = ids?.size === 1 ? customers.get([...ids][0] as string) : undefined;
      if (customerId) return { matchedBy: 'mobile', customerId };
    }
    return { matchedBy: 'none' };
  });
}

function revenueOf(input: OutcomeInput): number {
  if (input.type === 'repair_order')
    return Math.round(((input.labourAmount ?? 0) + (input.partsAmount ?? 0)) * 100) / 100;
  if (input.type === 'insurance_policy') return input.premium ?? 0;
  if (input.type === 'vehicle_sale') return input.saleAmount ?? 0;
  return 0;
}

type Status = 'created' | 'updated' | 'unchanged' | 'stale';
const keyOf = (o: { source: string; externalId: string }) => `${o.source}\u0000${o.externalId}`;

/** The stored outcomes of these keys, one `$in` query per source (normally one). */
async function loadStored(
  corpId: string,
  keys: ReadonlyArray<{ source: string; externalId: string }>,
): Promise<Map<string, OutcomeLean>> {
  const bySource = new Map<string, string[]>();
  for (const k of keys) bySource.set(k.source, [...(bySource.get(k.source) ?? []), k.externalId]);
  const found = await Promise.all(
    [...bySource].map(([source, externalIds]) =>
      OutcomeModel.find({ corpId, source, externalId: { $in: [...new Set(externalIds)] } }).lean<OutcomeLean[]>(),
    ),
  );
  return new Map(found.flat().map((o) => [keyOf(o), o]));
}

/**
 * Stores a batch of outcomes idempotently (docs/outcomes.md, "Versions"): keyed by corp + source +
 * externalId, the highest (version, content hash) wins, so repeated and out-of-order deliveries
 * end in the same state. Items of one key are answered in their order (a later item after an
 * earlier one of the same key sees it); only the winner per key is written, with one bulkWrite of
 * upserts guarded by `orderKey < new` (a concurrent newer version makes the unique index refuse
 * the insert: that item is `stale`). Then, for every key of the batch, also an unchanged or stale
 * one (a crash between the steps is repaired by the redelivery), the vehicles' anchors follow the
 * stored outcomes and the outcomes are attributed, each in one batched step. Returns after
 * everything is written (the webhook's 2xx means durable); each result gives the stored state.
 */
export async function upsertOutcomes(
  deps: OutcomeDeps,
  inputs: readonly OutcomeInput[],
  via: ReceivedVia,
): Promise<OutcomeResult[]> {
  if (inputs.length === 0) return [];
  const settings = deps.settings ?? (await loadOutcomeSettings(deps.corpId));
  const orderKeys = inputs.map(orderKeyOf);
  const vins = [...new Set(inputs.flatMap((i) => (i.vin ? [i.vin] : [])))];
  const [existing, vehicleList] = await Promise.all([loadStored(deps.corpId, inputs), loadVehicles(deps.corpId, vins)]);
  const vehicles = new Map(vehicleList.map((v) => [v.vin, v]));

  // Statuses in delivery order, and the winner (last item that moved the key forward) per key.
  const current = new Map([...existing].map(([k, o]) => [k, o.orderKey]));
  const winners = new Map<string, number>();
  const statuses: Status[] = inputs.map((input, i) => {
    const k = keyOf(input);
    const before = current.get(k);
    const mine = orderKeys[i] as string;
    if (before === mine) return 'unchanged';
    if (before !== undefined && before > mine) return 'stale';
    winners.set(k, i);
    current.set(k, mine);
    return before === undefined ? 'created' : 'updated';
  });

  const winning = [...winners.values()];
  const matches = await matchOutcomes(
    deps,
    winning.map((i) => inputs[i] as OutcomeInput),
    vehicles,
  );
  const receivedAt = deps.now();
  const { instant } = localDates(deps.timeZone);
  const writes = winning.map((i, w) => {
    const input = inputs[i] as OutcomeInput;
    const { mobile, ...rest } = input;
    const key = { corpId: deps.corpId, source: input.source, externalId: input.externalId };
    const doc = {
      ...rest,
      ...key,
      orderKey: orderKeys[i] as string,
      occurredAt: instant(input.occurredAt),
      closedAt: instant(input.closedAt),
      policyEnd: instant(input.policyEnd),
      mobileHash: mobile ? deps.pd.hash('mobile', mobile) : undefined,
      ...matches[w],
      revenue: revenueOf(input),
      receivedVia: via,
      receivedAt,
    };
    const set = Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
    const unset = Object.fromEntries(
      Object.entries(doc)
        .filter(([, v]) => v === undefined)
        .map(([k]) => [k, 1]),
    );
    // A key the read found nothing for is inserted with an id made here; a stored one is replaced
    // by a guarded update (docs/outcomes.md, "Versions").
    return { key: keyOf(input), set, unset, insertId: existing.has(keyOf(input)) ? undefined : new Types.ObjectId() };
  });
  const { upserted, refused } = await storeWinners(deps.corpId, writes);

  // The stored state per key: what was written, what was there, or (refused) what won meanwhile.
  const stored = new Map(existing);
  const refusedKeys = new Set<string>();
  const reread = new Set<string>();
  writes.forEach(({ key, set }, w) => {
    const id = existing.get(key)?._id ?? upserted.get(w);
    if (refused.has(w)) refusedKeys.add(key);
    // Updated, but the read saw no record: one was inserted concurrently; read back its id.
    if (refused.has(w) || !id) reread.add(key);
    else stored.set(key, { ...set, _id: id } as unknown as OutcomeLean);
  });
  if (reread.size > 0) {
    const now = await loadStored(
      deps.corpId,
      inputs.filter((i) => reread.has(keyOf(i))),
    );
    for (const [k, o] of now) stored.set(k, o);
    inputs.forEach((input, i) => {
      const k = keyOf(input);
      if (refusedKeys.has(k) && (statuses[i] === 'created' || statuses[i] === 'updated'))
        statuses[i] = now.get(k)?.orderKey === orderKeys[i] ? 'unchanged' : 'stale';
    });
  }

  const outcomes = [...stored.values()];
  // Outcomes inserted by this batch have no attribution record yet (nothing knew their id).
  const fresh = new Set(writes.flatMap((w, i) => (w.insertId && !refused.has(i) ? [String(w.insertId)] : [])));
  await applyOutcomeAnchors(deps, outcomes, vehicles);
  await attributeOutcomes(deps, outcomes, settings, fresh);
  // A repair order brings a dormant owner back (docs/outcomes.md, "Dormant owners").
  const arrived = outcomes.flatMap((o) =>
    o.type === 'repair_order' && o.status === 'active' && o.customerId ? [o.customerId] : [],
  );
  if (arrived.length > 0) await returnFromDormancy(deps.corpId, arrived, settings, deps.now());
  return inputs.map((input, i) => {
    const o = stored.get(keyOf(input));
    if (!o?._id) throw new Error('outcome upsert returned nothing');
    return {
      status: statuses[i] as Status,
      externalId: input.externalId,
      outcomeId: String(o._id),
      version: o.version,
      matchedBy: o.matchedBy as 'vin' | 'mobile' | 'none',
    };
  });
}

type Write = { set: Record<string, unknown>; unset: Record<string, number>; insertId?: Types.ObjectId };

/**
 * Writes the winning versions: new keys with one unordered `insertMany` (the cheapest write; the
 * unique index refuses a key stored concurrently, which is then answered like a refused upsert),
 * stored keys with the guarded upserts. Returns the ids by write index and the refused indexes.
 */
async function storeWinners(
  corpId: string,
  writes: readonly Write[],
): Promise<{ upserted: Map<number, Types.ObjectId>; refused: Set<number> }> {
  const inserts = writes.flatMap((w, i) => (w.insertId ? [i] : []));
  const updates = writes.flatMap((w, i) => (w.insertId ? [] : [i]));
  const [inserted, updated] = await Promise.all([
    insertNew(inserts.map((i) => ({ ...writes[i]?.set, _id: writes[i]?.insertId }))),
    bulkUpsert(
      updates.map((i) => {
        const { set, unset } = writes[i] as Write;
        return {
          updateOne: {
            filter: { corpId, source: set.source, externalId: set.externalId, orderKey: { $lt: set.orderKey } },
            update: { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
            upsert: true,
          },
        };
      }),
    ),
  ]);
  const upserted = new Map<number, Types.ObjectId>();
  const refused = new Set<number>();
  inserts.forEach((w, j) => {
    if (inserted.has(j)) refused.add(w);
    else upserted.set(w, writes[w]?.insertId as Types.ObjectId);
  });
  for (const [j, id] of updated.upserted) upserted.set(updates[j] as number, id);
  for (const j of updated.refused) refused.add(updates[j] as number);
  return { upserted, refused };
}

/** The indexes of the write errors when all of them are duplicate keys; anything else is thrown. */
function duplicateKeyIndexes(err: unknown): Set<number> {
  const e = err as { writeErrors?: { index: number; code?: number } | Array<{ index: number; code?: number }> };
  const errors = e.writeErrors === undefined ? [] : [e.writeErrors].flat();
  if (errors.length === 0 || errors.some((w) => w.code !== 11000)) throw err;
  return new Set(errors.map((w) => w.index));
}

/** Inserts new outcomes unordered, driver-side; returns the indexes the unique index refused. */
async function insertNew(docs: ReadonlyArray<Record<string, unknown>>): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await OutcomeModel.collection.insertMany(docs as Parameters<typeof OutcomeModel.collection.insertMany>[0], {
      ordered: false,
    });
    return new Set();
  } catch (err) {
    return duplicateKeyIndexes(err);
  }
}

/**
 * Runs the guarded upserts unordered; a duplicate-key refusal (a newer or equal version stored
 * concurrently) is an answer, not a failure. Returns the inserted ids by operation index and the
 * refused indexes.
 */
async function bulkUpsert(
  ops: Parameters<typeof OutcomeModel.collection.bulkWrite>[0],
): Promise<{ upserted: Map<number, Types.ObjectId>; refused: Set<number> }> {
  const idsOf = (ids: Record<number, unknown> | undefined) =>
    new Map(Object.entries(ids ?? {}).map(([i, id]) => [Number(i), id as Types.ObjectId]));
  if (ops.length === 0) return { upserted: new Map(), refused: new Set() };
  try {
    // Straight to the driver: the documents are built from the validated input with their final
    // types (dates converted, ids from the match), and mongoose's per-operation casting was most of
    // the batch's client CPU (docs/outcomes.md, "Benchmark").
    const res = await OutcomeModel.collection.bulkWrite(ops, { ordered: false });
    return { upserted: idsOf(res.upsertedIds), refused: new Set() };
  } catch (err) {
    const refused = duplicateKeyIndexes(err);
    return {
      upserted: idsOf((err as { result?: { upsertedIds?: Record<number, unknown> } }).result?.upsertedIds),
      refused,
    };
  }
}
