import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { AttributionModel } from './attribution.model.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';
import { defaultOutcomeSettings, loadOutcomeSettings, windowKindOf, type OutcomeSettings } from './outcome-settings.js';
import { touchesForCorp, touchesForCustomers, type Touch } from './touches.js';

/** Bumped when the credit rules change, so stored records say which rules made them. */
export const ATTRIBUTION_MODEL = 'last_touch';
export const ATTRIBUTION_MODEL_VERSION = 1;

/** Outcomes that are results (an appointment is a step towards one, counted in the funnel only). */
const ATTRIBUTED_TYPES = ['repair_order', 'insurance_policy', 'vehicle_sale'];

/**
 * The attribution of one outcome from its touches (pure): the last touch in the window gets the
 * credit, the first is reported beside it (docs/outcomes.md, "Attribution").
 */
export function creditOf(
  outcome: Pick<AttributableOutcome, 'occurredAt'>,
  touches: readonly Touch[],
): { touch?: Touch; firstTouch?: Touch; lagMs?: number; predicted: boolean } {
  const touch = touches.at(-1);
  return {
    touch,
    firstTouch: touches[0],
    lagMs: touch ? outcome.occurredAt.getTime() - touch.at.getTime() : undefined,
    predicted: touches.some((t) => t.taskOutcome === 'appointment_booked'),
  };
}

/**
 * Writes (or replaces, or removes) the attribution record of one outcome: one record per outcome,
 * so a recomputation never counts it twice. Unmatched, cancelled and appointment outcomes have none.
 */
export async function attributeOutcome(
  deps: { corpId: string; now: () => Date },
  outcome: OutcomeLean,
  settings?: OutcomeSettings,
): Promise<void> {
  await attributeOutcomes(deps, [outcome], settings);
}

const isAttributable = (o: AttributableOutcome) =>
  Boolean(o.customerId) && o.status === 'active' && ATTRIBUTED_TYPES.includes(o.type);

/**
 * `attributeOutcome` for many outcomes of one corp at once: the touches of all their customers
 * are read with one query per source (the widest window of the set), joined in memory, and the
 * records written in one delete and one insert; records of outcomes that no longer qualify are
 * removed. `fresh`: ids of outcomes the caller has just inserted (no record can exist yet, so
 * nothing is deleted for them).
 */
export async function attributeOutcomes(
  deps: { corpId: string; now: () => Date },
  outcomes: readonly AttributableOutcome[],
  settings?: OutcomeSettings,
  fresh?: ReadonlySet<string>,
): Promise<void> {
  if (outcomes.length === 0) return;
  const credited = outcomes.filter(isAttributable);
  const s = credited.length ? (settings ?? (await loadOutcomeSettings(deps.corpId))) : defaultOutcomeSettings;
  const customers = new Map(credited.map((o) => [String(o.customerId), o.customerId as Types.ObjectId]));
  let touches = new Map<string, Touch[]>();
  if (credited.length > 0) {
    const longest = Math.max(...credited.map((o) => s.windows[windowKindOf(o.type)]));
    let earliest = Infinity;
    let latest = -Infinity;
    for (const o of credited) {
      earliest = Math.min(earliest, o.occurredAt.getTime());
      latest = Math.max(latest, o.occurredAt.getTime());
    }
    touches = await touchesForCustomers(
      deps.corpId,
      [...customers.values()],
      dayjs(earliest).subtract(longest, 'day').toDate(),
      new Date(latest),
    );
  }
  await writeAttributions(deps, outcomes, touches, s, fresh);
}

/** What attribution reads of an outcome (a projection is enough). */
export type AttributableOutcome = Pick<
  OutcomeLean,
  '_id' | 'type' | 'roType' | 'status' | 'customerId' | 'occurredAt' | 'revenue'
>;
const ATTRIBUTABLE_PROJECTION = { type: 1, roType: 1, status: 1, customerId: 1, occurredAt: 1, revenue: 1 };

/**
 * Attributes the outcomes from touches already read (pure but for the write): every outcome's old
 * record is deleted (`$in` chunks, none for `fresh` ones) and the qualifying ones' new records
 * inserted with one unordered insertMany (docs/outcomes.md, "Recomputation").
 */
async function writeAttributions(
  deps: { corpId: string; now: () => Date },
  outcomes: readonly AttributableOutcome[],
  touchesByCustomer: ReadonlyMap<string, readonly Touch[]>,
  s: OutcomeSettings,
  fresh?: ReadonlySet<string>,
): Promise<void> {
  const stale = fresh ? outcomes.filter((o) => !fresh.has(String(o._id))) : outcomes;
  for (let i = 0; i < stale.length; i += DELETE_CHUNK)
    await AttributionModel.collection.deleteMany({
      corpId: deps.corpId,
      outcomeId: { $in: stale.slice(i, i + DELETE_CHUNK).map((o) => o._id) },
    });
  const credited = outcomes.filter(isAttributable);
  if (credited.length === 0) return;
  const computedAt = deps.now();
  // The records are built here with their final types, so they go to the driver as they are:
  // mongoose's per-operation casting was three quarters of the write's cost (docs/outcomes.md,
  // "Benchmark"). `compact` drops unset fields, which the driver would otherwise store as null.
  const records = credited.map((outcome) => {
    const windowDays = s.windows[windowKindOf(outcome.type)];
    const from = dayjs(outcome.occurredAt).subtract(windowDays, 'day').toDate();
    const touches = inWindow(touchesByCustomer.get(String(outcome.customerId)) ?? [], from, outcome.occurredAt);
    const credit = creditOf(outcome, touches);
    const record = compact({
      corpId: deps.corpId,
      outcomeId: outcome._id,
      outcomeType: outcome.type,
      roType: outcome.roType ?? undefined,
      customerId: outcome.customerId ?? undefined,
      occurredAt: outcome.occurredAt,
      revenue: outcome.revenue,
      model: ATTRIBUTION_MODEL,
      modelVersion: ATTRIBUTION_MODEL_VERSION,
      windowDays,
      organic: !credit.touch,
      predicted: credit.predicted,
      touch: credit.touch ? compact({ ...credit.touch }) : undefined,
      firstTouch: credit.firstTouch ? compact({ ...credit.firstTouch }) : undefined,
      touches: touches.length,
      lagMs: credit.lagMs,
      computedAt,
    });
    return record;
  });
  await insertRecords(deps.corpId, records);
}

/**
 * The dev server's planner turns at most this many `$in` values into index ranges
 * (docs/dev-mongo.md); one delete per chunk.
 */
const DELETE_CHUNK = 1000;

type AttributionRecord = { outcomeId: Types.ObjectId } & Record<string, unknown>;

/**
 * Inserts the records unordered. A record the unique index refuses was written concurrently (a
 * task completed while the outcome arrived, attributing it too): it is replaced instead, so the
 * last writer wins as with a replace of every record, and no outcome gets two.
 */
async function insertRecords(corpId: string, records: readonly AttributionRecord[]): Promise<void> {
  try {
    await AttributionModel.collection.insertMany(
      records as unknown as Parameters<typeof AttributionModel.collection.insertMany>[0],
      { ordered: false },
    );
  } catch (err) {
    const e = err as { writeErrors?: { index: number; code?: number } | Array<{ index: number; code?: number }> };
    const errors = e.writeErrors === undefined ? [] : [e.writeErrors].flat();
    if (errors.length === 0 || errors.some((w) => w.code !== 11000)) throw err;
    await AttributionModel.collection.bulkWrite(
      errors.map((w) => {
        const { _id: _omit, ...replacement } = records[w.index] as AttributionRecord & { _id?: unknown };
        return {
          replaceOne: {
            filter: { corpId, outcomeId: replacement.outcomeId },
            replacement: replacement as Parameters<typeof AttributionModel.collection.insertOne>[0],
            upsert: true,
          },
        };
      }),
      { ordered: false },
    );
  }
}

/** The object without its undefined fields. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** The touches of a sorted list within `[from, to]` (binary search: a customer may have hundreds). */
function inWindow(sorted: readonly Touch[], from: Date, to: Date): Touch[] {
  const f = from.getTime();
  const t = to.getTime();
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as Touch).at.getTime() < f) lo = mid + 1;
    else hi = mid;
  }
  const out: Touch[] = [];
  for (let i = lo; i < sorted.length && (sorted[i] as Touch).at.getTime() <= t; i++) out.push(sorted[i] as Touch);
  return out;
}

/**
 * Re-attributes the outcomes a changed touch may concern (docs/outcomes.md, "Recomputation"):
 * the customer's outcomes from `since` to the longest window after it. Each outcome's record is
 * replaced, never added, so running this any number of times counts nothing twice.
 */
export async function reattributeCustomer(
  deps: { corpId: string; now: () => Date },
  customerId: Types.ObjectId,
  since: Date,
): Promise<number> {
  const settings = await loadOutcomeSettings(deps.corpId);
  const longest = Math.max(...Object.values(settings.windows));
  const outcomes = await OutcomeModel.find({
    corpId: deps.corpId,
    customerId,
    occurredAt: { $gte: since, $lte: dayjs(since).add(longest, 'day').toDate() },
  }).lean<OutcomeLean[]>();
  await attributeOutcomes(deps, outcomes, settings);
  return outcomes.length;
}

/**
 * Recomputes every attribution of a corp whose outcome occurred in `[from, to)` (after a settings
 * change or a bulk correction; the bench's dealer-year), by design a constant number of round
 * trips (docs/outcomes.md, "Recomputation"): the period's outcomes are read once (projected,
 * lean), the corp's touches of the period and the longest window before it once per source
 * (`touchesForCorp`), every outcome is attributed in memory, and the records are written with one
 * unordered bulkWrite.
 */
export async function recomputeAttributions(
  deps: { corpId: string; now: () => Date },
  from: Date,
  to: Date,
): Promise<number> {
  const settings = await loadOutcomeSettings(deps.corpId);
  const longest = Math.max(...Object.values(settings.windows));
  const [outcomes, touches] = await Promise.all([
    OutcomeModel.find({ corpId: deps.corpId, occurredAt: { $gte: from, $lt: to } }, ATTRIBUTABLE_PROJECTION).lean<
      AttributableOutcome[]
    >(),
    touchesForCorp(deps.corpId, dayjs(from).subtract(longest, 'day').toDate(), to),
  ]);
  await writeAttributions(deps, outcomes, touches, settings);
  return outcomes.length;
}
