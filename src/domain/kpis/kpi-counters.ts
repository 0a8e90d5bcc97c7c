import { histogramMedian, type DurationHistogram } from './duration-histogram.js';
import type { KpiValues, MetricKey } from './kpi-types.js';
import type { Observation } from './anomalies.js';

/** The additive counters a daily rollup stores; every metric is one of them or a ratio of two. */
export const COUNTER_KEYS = [
  'tasksDue',
  'tasksDecided',
  'tasksDoneOnTime',
  'tasksDoneLate',
  'tasksOverdue',
  'tasksEscalated',
  'tasksReassigned',
  'newOwners',
  'newOwnersCareOnTime',
  'invitationsSent',
  'invitationsBooked',
  'invitationsDeclined',
  'invitationsUnreachable',
  'customersAdded',
  'customersLost',
  'addedLost30d',
  'welcomesSent',
  'welcomesFailed',
  'messagesPlanned',
  'messagesConfirmed',
  'messagesSent',
  'messagesBlockedCap',
  'messagesBlockedOptOut',
] as const;
export type CounterKey = (typeof COUNTER_KEYS)[number];
export type Counters = Record<CounterKey, number>;

export const emptyCounters = (): Counters => Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0])) as Counters;

/** Counts: metric → counter. */
const COUNT_OF: Partial<Record<MetricKey, CounterKey>> = {
  tasks_due: 'tasksDue',
  tasks_done_on_time: 'tasksDoneOnTime',
  tasks_done_late: 'tasksDoneLate',
  tasks_overdue: 'tasksOverdue',
  tasks_escalated: 'tasksEscalated',
  tasks_reassigned: 'tasksReassigned',
  new_owners: 'newOwners',
  invitations_sent: 'invitationsSent',
  invitations_booked: 'invitationsBooked',
  invitations_declined: 'invitationsDeclined',
  invitations_unreachable: 'invitationsUnreachable',
  customers_added: 'customersAdded',
  customers_lost: 'customersLost',
  welcomes_sent: 'welcomesSent',
  welcomes_failed: 'welcomesFailed',
  messages_planned: 'messagesPlanned',
  messages_confirmed: 'messagesConfirmed',
  messages_sent: 'messagesSent',
  messages_blocked_cap: 'messagesBlockedCap',
  messages_blocked_opt_out: 'messagesBlockedOptOut',
};

/** Rates: metric → [numerator, denominator]. */
export const RATE_OF: Partial<Record<MetricKey, [CounterKey, CounterKey]>> = {
  on_time_rate: ['tasksDoneOnTime', 'tasksDecided'],
  delivery_care_within_sla_rate: ['newOwnersCareOnTime', 'newOwners'],
  loss_rate_30d: ['addedLost30d', 'customersAdded'],
};

/** A sum of counters and histograms (any days, any advisors). */
export interface KpiAccumulator {
  counters: Counters;
  dueToDone: DurationHistogram;
  addedByState: Record<string, number>;
}

export const emptyAccumulator = (): KpiAccumulator => ({ counters: emptyCounters(), dueToDone: {}, addedByState: {} });

export function accumulate(
  into: KpiAccumulator,
  doc: { counters?: unknown; dueToDone?: unknown; addedByState?: unknown },
): KpiAccumulator {
  const c = (doc.counters ?? {}) as Partial<Counters>;
  for (const k of COUNTER_KEYS) into.counters[k] += c[k] ?? 0;
  for (const [b, n] of Object.entries((doc.dueToDone ?? {}) as Record<string, number>))
    into.dueToDone[b] = (into.dueToDone[b] ?? 0) + n;
  for (const [s, n] of Object.entries((doc.addedByState ?? {}) as Record<string, number>))
    into.addedByState[s] = (into.addedByState[s] ?? 0) + n;
  return into;
}

/** Metric values of an accumulator: rates and the median are null without a denominator. */
export function valuesOf(acc: KpiAccumulator): KpiValues {
  const values: KpiValues = {};
  for (const [metric, counter] of Object.entries(COUNT_OF) as Array<[MetricKey, CounterKey]>)
    values[metric] = acc.counters[counter];
  for (const [metric, [num, den]] of Object.entries(RATE_OF) as Array<[MetricKey, [CounterKey, CounterKey]]>) {
    values[metric] = acc.counters[den] > 0 ? acc.counters[num] / acc.counters[den] : null;
  }
  values.median_due_to_done_ms = histogramMedian(acc.dueToDone);
  return values;
}

/** The anomaly module's observation of a metric: a rate's parts; a count with the tasks due as its volume. */
export function observationOf(metric: MetricKey, acc: KpiAccumulator): Observation {
  const rate = RATE_OF[metric];
  if (rate) return { numerator: acc.counters[rate[0]], denominator: acc.counters[rate[1]] };
  const count = COUNT_OF[metric];
  return { numerator: count ? acc.counters[count] : 0, denominator: acc.counters.tasksDue };
}
