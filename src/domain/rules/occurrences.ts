import { dayjs } from '../../infra/clock.js';
import type { DomainEvent } from '../events/domain-event.js';
import type { CustomerContext } from './customer-context.js';
import { atLocalTime, parseDateOffset } from './durations.js';
import type { AnchorField, Trigger } from './rule.schema.js';

/**
 * Occurrence ids (docs/architecture.md §5): a rule acts at most once per (rule, customer, occurrence). They
 * come from the trigger, never from the rule's version, so editing a rule cannot make a past
 * occurrence fire again.
 */
export function eventOccurrenceId(
  trigger: Exclude<Trigger, { type: 'date' | 'inactivity' | 'owner.unreachable' }>,
  event: DomainEvent,
): string {
  const at = Date.parse(event.occurredAt);
  switch (trigger.type) {
    case 'customer.added':
      return `add:${event.userid ?? event.relationshipId ?? 'unknown'}`;
    case 'customer.tag_added':
      return `tag:${String(event.data.tagId ?? '')}:${at}`;
    case 'customer.tag_removed':
      return `untag:${String(event.data.tagId ?? '')}:${at}`;
    case 'customer.became_owner':
      return 'owner';
    case 'vehicle.linked':
      return `vehicle:${String(event.data.vin ?? event.vehicleId ?? '')}`;
    case 'customer.lost':
      return `lost:${at}`;
    case 'service.overdue':
      return `dormant:${at}`;
    // Stages only move forward, so each lead reaches each stage once.
    case 'lead.created':
      return `lead:${String(event.data.leadId ?? '')}:created`;
    case 'lead.stage_changed':
      return `lead:${String(event.data.leadId ?? '')}:${String(event.data.to ?? '')}`;
  }
}

/** One planned firing of a date rule for one customer. */
export interface DateOccurrence {
  occurrenceId: string;
  anchor: { field: AnchorField; vin?: string; value: string };
  dueAt: Date;
}

const occurrencePrefix: Record<Exclude<AnchorField, 'birthday'>, string> = {
  deliveryDate: 'delivery',
  insuranceExpiry: 'insurance',
  lastServiceDate: 'service',
};

/**
 * The next firing of a `date` trigger per anchor of this customer, in the corp's zone: anchor
 * day + offset days at the offset's local time. Delivery counts once per vehicle (a corrected
 * delivery date moves the same occurrence); insurance expiry and service dates are new
 * occurrences per date value (a renewal is a new expiry); birthdays repeat yearly. Only firings
 * at or after `now` are returned.
 */
export function dateOccurrences(
  trigger: Extract<Trigger, { type: 'date' }>,
  ctx: Pick<CustomerContext, 'vehicles' | 'birthday'>,
  timeZone: string,
  now: Date,
): DateOccurrence[] {
  const offset = parseDateOffset(trigger.offset);
  const out: DateOccurrence[] = [];
  if (trigger.field === 'birthday') {
    if (!ctx.birthday) return out;
    const mmdd = ctx.birthday.slice(-5);
    const localYear = dayjs.utc(now).tz(timeZone).year();
    for (const year of [localYear - 1, localYear, localYear + 1]) {
      const day = birthdayIn(year, mmdd, timeZone);
      if (!day) continue;
      const due = atLocalTime(day.add(offset.days, 'day'), offset.at, timeZone);
      if (due.valueOf() >= now.getTime()) {
        out.push({ occurrenceId: `birthday:${year}`, anchor: { field: 'birthday', value: mmdd }, dueAt: due.toDate() });
        break;
      }
    }
    return out;
  }
  for (const v of ctx.vehicles) {
    const value = v[trigger.field];
    if (!(value instanceof Date)) continue;
    const anchorDay = dayjs.utc(value).tz(timeZone);
    const ymd = anchorDay.format('YYYY-MM-DD');
    const due = atLocalTime(dayjs.tz(ymd, timeZone).add(offset.days, 'day'), offset.at, timeZone);
    if (due.valueOf() < now.getTime()) continue;
    const prefix = occurrencePrefix[trigger.field];
    const occurrenceId = trigger.field === 'deliveryDate' ? `${prefix}:${v.vin}` : `${prefix}:${v.vin}:${ymd}`;
    out.push({ occurrenceId, anchor: { field: trigger.field, vin: v.vin, value: ymd }, dueAt: due.toDate() });
  }
  return out;
}

/** The local calendar day of a birthday in `year`; 29 Feb falls on 28 Feb in other years. */
function birthdayIn(year: number, mmdd: string, timeZone: string) {
  const leapless = mmdd === '02-29' && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  const day = dayjs.tz(`${year}-${leapless ? '02-28' : mmdd}`, timeZone);
  return day.isValid() ? day : undefined;
}
