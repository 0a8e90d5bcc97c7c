import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { AttributionModel } from './attribution.model.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';
import { loadOutcomeSettings, windowKindOf, type OutcomeSettings } from './outcome-settings.js';
import { touchesForCustomers, type Touch } from './touches.js';

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
  outcome: Pick<OutcomeLean, 'occurredAt'>,
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

const isAttributable = (o: OutcomeLean) =>
  Boolean(o.customerId) && o.status === 'active' && ATTRIBUTED_TYPES.includes(o.type);

/**
 * `attributeOutcome` for many outcomes of one corp at once: the touches of all their customers
 * are read with one query per source (the widest window of the set), joined in memory, and the
 * records written with one bulkWrite; records of outcomes that no longer qualify are removed.
 */
export async function attributeOutcomes(
  deps: { corpId: string; now: () => Date },
  outcomes: readonly OutcomeLean[],
  settings?: OutcomeSettings,
): Promise<void> {
  if (outcomes.length === 0) return;
  const gone = outcomes.filter((o) => !isAttributable(o)).map((o) => o._id);
  const credited = outcomes.filter(isAttributable);
  if (gone.length > 0) await AttributionModel.deleteMany({ corpId: deps.corpId, outcomeId: { $in: gone } });
  if (credited.length === 0) return;
  const s = settings ?? (await loadOutcomeSettings(deps.corpId));
  const windows = credited.map((o) => {
    const windowDays = s.windows[windowKindOf(o.type)];
    return { outcome: o, windowDays, from: dayjs(o.occurredAt).subtract(windowDays, 'day').toDate() };
  });
  const customers = new Map(credited.map((o) => [String(o.customerId), o.customerId as Types.ObjectId]));
  const earliest = new Date(Math.min(...windows.map((w) => w.from.getTime())));
  const latest = new Date(Math.max(...credited.map((o) => o.occurredAt.getTime())));
  const touchesByCustomer = await touchesForCustomers(deps.corpId, [...customers.values()], earliest, latest);
  const computedAt = deps.now();
  await AttributionModel.bulkWrite(
    windows.map(({ outcome, windowDays, from }) => {
      const touches = (touchesByCustomer.get(String(outcome.customerId)) ?? []).filter(
        (t) => t.at >= from && t.at <= outcome.occurredAt,
      );
      const credit = creditOf(outcome, touches);
      const record = {
        corpId: deps.corpId,
        outcomeId: outcome._id,
        outcomeType: outcome.type,
        roType: outcome.roType ?? undefined,
        customerId: outcome.customerId,
        occurredAt: outcome.occurredAt,
        revenue: outcome.revenue,
        model: ATTRIBUTION_MODEL,
        modelVersion: ATTRIBUTION_MODEL_VERSION,
        windowDays,
        organic: !credit.touch,
        predicted: credit.predicted,
        touch: credit.touch,
        firstTouch: credit.firstTouch,
        touches: touches.length,
        lagMs: credit.lagMs,
        computedAt,
      };
      return {
        replaceOne: {
          filter: { corpId: deps.corpId, outcomeId: outcome._id },
          replacement: Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as typeof record,
          upsert: true,
        },
      };
    }),
    { ordered: false },
  );
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

/** Customers whose outcomes a recomputation attributes together (one touches query per source each). */
const RECOMPUTE_CUSTOMERS_PER_ROUND = 1000;

/**
 * Recomputes every attribution of a corp whose outcome occurred in `[from, to)` (after a
 * settings change or a bulk correction; the bench's dealer-year). The outcomes are streamed in
 * customer order and attributed a few thousand customers at a time (`attributeOutcomes`), so a
 * dealer-year is a handful of queries and bulk writes, whatever its number of outcomes.
 */
export async function recomputeAttributions(
  deps: { corpId: string; now: () => Date },
  from: Date,
  to: Date,
): Promise<number> {
  const settings = await loadOutcomeSettings(deps.corpId);
  let n = 0;
  const cursor = OutcomeModel.find({ corpId: deps.corpId, occurredAt: { $gte: from, $lt: to } })
    .sort({ customerId: 1 })
    .lean<OutcomeLean[]>()
    .cursor({ batchSize: 5000 });
  let round: OutcomeLean[] = [];
  let customers = 0;
  let last: string | undefined;
  for await (const doc of cursor) {
    const o = doc as OutcomeLean;
    const customer = String(o.customerId ?? '');
    if (customer !== last) {
      if (customers >= RECOMPUTE_CUSTOMERS_PER_ROUND) {
        await attributeOutcomes(deps, round, settings);
        round = [];
        customers = 0;
      }
      customers++;
      last = customer;
    }
    round.push(o);
    n++;
  }
  await attributeOutcomes(deps, round, settings);
  return n;
}
