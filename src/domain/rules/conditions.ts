import { dayjs } from '../../infra/clock.js';
import type { CustomerContext } from './customer-context.js';
import { tagKey } from './customer-context.js';
import type { Conditions } from './rule.schema.js';

/** A channel `state` test: exact or prefix (docs/architecture.md §5). */
export function stateMatches(
  match: { equals?: string; prefix?: string } | undefined,
  state: string | undefined | null,
): boolean {
  if (!match) return true;
  if (!state) return false;
  if (match.equals !== undefined) return state === match.equals;
  return match.prefix !== undefined && state.startsWith(match.prefix);
}

/** Whole months between the newest delivery and `now`, or undefined without a delivered vehicle. */
export function vehicleAgeMonths(ctx: Pick<CustomerContext, 'vehicles'>, now: Date): number | undefined {
  const deliveries = ctx.vehicles.map((v) => v.deliveryDate).filter((d): d is Date => d instanceof Date);
  if (deliveries.length === 0) return undefined;
  const newest = deliveries.reduce((a, b) => (a > b ? a : b));
  return dayjs.utc(now).diff(dayjs.utc(newest), 'month');
}

/**
 * Which conditions fail for this customer (empty = all hold). Pure: the same context and time
 * give the same answer, so preview and engine agree. `channelState` is the state of the
 * relationship the event is about, when there is one.
 */
export function failedConditions(
  conditions: Conditions,
  ctx: CustomerContext,
  now: Date,
  channelState?: string,
): string[] {
  const failed: string[] = [];
  if (conditions.channel) {
    const states =
      channelState !== undefined
        ? [channelState]
        : ctx.relationships.filter((r) => r.status === 'active').map((r) => r.state);
    if (!states.some((s) => stateMatches(conditions.channel, s))) failed.push('channel');
  }
  if (conditions.hasTags && !conditions.hasTags.every((t) => ctx.tagKeys.has(tagKey(t.group, t.name))))
    failed.push('hasTags');
  if (conditions.lacksTags && conditions.lacksTags.some((t) => ctx.tagKeys.has(tagKey(t.group, t.name))))
    failed.push('lacksTags');
  if (conditions.lifecycle && !conditions.lifecycle.includes(ctx.lifecycle)) failed.push('lifecycle');
  if (conditions.vehicleModels) {
    const models = new Set(conditions.vehicleModels.map((m) => m.toLowerCase()));
    if (!ctx.vehicles.some((v) => v.model && models.has(v.model.toLowerCase()))) failed.push('vehicleModels');
  }
  if (conditions.vehicleAgeMonths) {
    const age = vehicleAgeMonths(ctx, now);
    const { min, max } = conditions.vehicleAgeMonths;
    if (age === undefined || (min !== undefined && age < min) || (max !== undefined && age > max))
      failed.push('vehicleAgeMonths');
  }
  if (conditions.advisors && !(ctx.advisor && conditions.advisors.includes(ctx.advisor.userid)))
    failed.push('advisors');
  if (
    conditions.departments &&
    !(ctx.advisor && ctx.advisor.departments.some((d) => conditions.departments?.includes(d)))
  )
    failed.push('departments');
  if (conditions.customerType && (conditions.customerType === 'wecom' ? 2 : 1) !== ctx.type)
    failed.push('customerType');
  return failed;
}

export function conditionsHold(
  conditions: Conditions,
  ctx: CustomerContext,
  now: Date,
  channelState?: string,
): boolean {
  return failedConditions(conditions, ctx, now, channelState).length === 0;
}
