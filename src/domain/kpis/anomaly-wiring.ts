import { detectAnomalies, type AnomalyOptions, type AnomalyUnitInput } from './anomalies.js';
import { observationOf, type KpiAccumulator } from './kpi-counters.js';
import type { AnomalyFlag, Granularity, KpiUnit, MetricKey } from './kpi-types.js';
import { METRIC_DEFINITIONS } from './metric-definitions.js';

/** The process metrics judged for anomalies (each a rate with a volume the minimum-volume rule applies to). */
export const ANOMALY_METRICS: readonly MetricKey[] = ['on_time_rate', 'delivery_care_within_sla_rate', 'loss_rate_30d'];

/** A unit with its accumulated counters per period start. */
export interface UnitPeriods {
  unit: KpiUnit;
  periods: Map<string, KpiAccumulator>;
}

function contextOf(metric: MetricKey, acc: KpiAccumulator): Record<string, number> {
  if (metric === 'on_time_rate')
    return {
      overdue: acc.counters.tasksOverdue,
      late: acc.counters.tasksDoneLate,
      escalated: acc.counters.tasksEscalated,
    };
  if (metric === 'loss_rate_30d') return { lost: acc.counters.addedLost30d };
  return {};
}

/**
 * The one place the cockpit calls the anomaly module (anomalies.ts): judges `period` of every
 * unit against the unit's earlier periods (`history`, oldest first) and its peers. Returns the
 * flags, worst first.
 */
export function anomalyFlags(
  units: readonly UnitPeriods[],
  period: string,
  history: readonly string[],
  granularity: Granularity,
  options: Partial<AnomalyOptions> = {},
): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  for (const key of ANOMALY_METRICS) {
    const inputs: AnomalyUnitInput[] = units.flatMap((u) => {
      const current = u.periods.get(period);
      if (!current) return [];
      return [
        {
          unit: u.unit,
          current: observationOf(key, current),
          history: history
            .map((p) => u.periods.get(p))
            .filter((a): a is KpiAccumulator => !!a)
            .map((a) => observationOf(key, a)),
          context: contextOf(key, current),
        },
      ];
    });
    flags.push(...detectAnomalies({ metric: METRIC_DEFINITIONS[key], period, granularity, units: inputs }, options));
  }
  const severity = (f: AnomalyFlag) => Math.abs(f.ownScore ?? 0) + Math.abs(f.peerScore ?? 0);
  return flags.sort((a, b) => severity(b) - severity(a));
}
