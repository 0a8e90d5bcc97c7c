import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { AttributionModel } from './attribution.model.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';
import { loadOutcomeSettings, windowKindOf, type OutcomeSettings } from './outcome-settings.js';
import { touchesFor, type Touch } from './touches.js';

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
  if (!outcome.customerId || outcome.status !== 'active' || !ATTRIBUTED_TYPES.includes(outcome.type)) {
    await AttributionModel.deleteOne({ outcomeId: outcome._id });
    return;
  }
  const s = settings ?? (await loadOutcomeSettings(deps.corpId));
  const windowDays = s.windows[windowKindOf(outcome.type)];
  const from = dayjs(outcome.occurredAt).subtract(windowDays, 'day').toDate();
  const touches = await touchesFor(deps.corpId, outcome.customerId, from, outcome.occurredAt);
  const credit = creditOf(outcome, touches);
  await AttributionModel.replaceOne(
    { outcomeId: outcome._id },
    {
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
      computedAt: deps.now(),
    },
    { upsert: true },
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
  for (const o of outcomes) await attributeOutcome(deps, o, settings);
  return outcomes.length;
}

/**
 * Recomputes every attribution of a corp whose outcome occurred in `[from, to)` (after a
 * settings change or a bulk correction; the bench's dealer-year). Touches are read per customer
 * in bulk, so a dealer-year is a few queries per thousand outcomes.
 */
export async function recomputeAttributions(
  deps: { corpId: string; now: () => Date },
  from: Date,
  to: Date,
): Promise<number> {
  const settings = await loadOutcomeSettings(deps.corpId);
  let n = 0;
  const cursor = OutcomeModel.find({ corpId: deps.corpId, occurredAt: { $gte: from, $lt: to } })
    .lean<OutcomeLean[]>()
    .cursor();
  const batch: OutcomeLean[] = [];
  const flush = async () => {
    await Promise.all(batch.splice(0).map((o) => attributeOutcome(deps, o, settings)));
  };
  for await (const o of cursor) {
    batch.push(o as OutcomeLean);
    n++;
    if (batch.length >= 16) await flush();
  }
  await flush();
  return n;
}
