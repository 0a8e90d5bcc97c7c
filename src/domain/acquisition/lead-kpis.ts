import type { PersonalData } from '../customers/personal-data.js';
import { leadCtx } from '../customers/personal-data.js';
import { dayjs } from '../../infra/clock.js';
import { LeadModel } from './lead.model.js';

export interface LeadKpiRow {
  key: string;
  leads: number;
  contacted: number;
  contactRate: number | null;
  /** Median minutes from assignment to first contact. */
  medianFirstContactMinutes: number | null;
  withinSla: number | null;
  addedOnWecomRate: number | null;
  testDriveRate: number | null;
  orderRate: number | null;
  wonRate: number | null;
}

const STAGE_AT_LEAST: Record<string, number> = {
  new: 0,
  contacted: 1,
  added: 2,
  test_drive: 3,
  order: 4,
  delivered: 5,
  lost: -1,
};
const ratio = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);

type Row = {
  source: string;
  advisorUserid?: string | null;
  stage: string;
  outcome?: string | null;
  assignedAt?: Date | null;
  firstContactAt?: Date | null;
  slaDueAt?: Date | null;
  addedAt?: Date | null;
  history?: Array<{ action: string; detail?: unknown }>;
};

function reachedStage(l: Row, stage: string): boolean {
  if ((STAGE_AT_LEAST[l.stage] ?? 0) >= (STAGE_AT_LEAST[stage] ?? 0)) return true;
  // A lost lead counts for the stages it reached before it was lost.
  return (l.history ?? []).some(
    (h) =>
      h.action === 'stage' &&
      (STAGE_AT_LEAST[(h.detail as { to?: string } | undefined)?.to ?? ''] ?? -1) >= (STAGE_AT_LEAST[stage] ?? 0),
  );
}

function rowOf(key: string, leads: Row[]): LeadKpiRow {
  const contacted = leads.filter((l) => l.firstContactAt);
  const minutes = contacted
    .filter((l) => l.assignedAt)
    .map((l) => ((l.firstContactAt as Date).getTime() - (l.assignedAt as Date).getTime()) / 60_000)
    .sort((a, b) => a - b);
  const median = minutes.length
    ? minutes.length % 2
      ? minutes[(minutes.length - 1) / 2]!
      : (minutes[minutes.length / 2 - 1]! + minutes[minutes.length / 2]!) / 2
    : null;
  const withSla = leads.filter((l) => l.slaDueAt);
  const inSla = withSla.filter(
    (l) => l.firstContactAt && (l.firstContactAt as Date).getTime() <= (l.slaDueAt as Date).getTime(),
  ).length;
  return {
    key,
    leads: leads.length,
    contacted: contacted.length,
    contactRate: ratio(contacted.length, leads.length),
    medianFirstContactMinutes: median === null ? null : Math.round(median * 10) / 10,
    withinSla: ratio(inSla, withSla.length),
    addedOnWecomRate: ratio(leads.filter((l) => l.addedAt || reachedStage(l, 'added')).length, leads.length),
    testDriveRate: ratio(leads.filter((l) => reachedStage(l, 'test_drive')).length, leads.length),
    orderRate: ratio(leads.filter((l) => reachedStage(l, 'order')).length, leads.length),
    wonRate: ratio(leads.filter((l) => l.outcome === 'won').length, leads.length),
  };
}

function groupBy(leads: Row[], key: (l: Row) => string): LeadKpiRow[] {
  const groups = new Map<string, Row[]>();
  for (const l of leads) groups.set(key(l), [...(groups.get(key(l)) ?? []), l]);
  return [...groups].map(([k, rows]) => rowOf(k, rows)).sort((a, b) => b.leads - a.leads);
}

/**
 * Lead KPIs for the cockpit (docs/acquisition.md "KPIs"): per source and per advisor, and the
 * dealer total; plus the uncontacted leads (the "unmanaged lead"), listed by name for the manager.
 */
export async function leadKpis(
  corpId: string,
  /** Absent for roles that may not open a person's name: the uncontacted leads are listed without it. */
  pd: PersonalData | undefined,
  now: Date,
  period: { from?: string; to?: string } = {},
) {
  const range: Record<string, Date> = {};
  if (period.from) range.$gte = dayjs.utc(period.from).toDate();
  if (period.to) range.$lt = dayjs.utc(period.to).add(1, 'day').toDate();
  const leads = await LeadModel.find(
    { corpId, ...(Object.keys(range).length ? { createdAt: range } : {}) },
    {
      source: 1,
      advisorUserid: 1,
      stage: 1,
      outcome: 1,
      assignedAt: 1,
      firstContactAt: 1,
      slaDueAt: 1,
      addedAt: 1,
      history: 1,
      nameEnc: 1,
      createdAt: 1,
      slaLevel: 1,
    },
  ).lean();
  const uncontacted = leads
    .filter((l) => !l.firstContactAt && !l.outcome)
    .slice(0, 200)
    .map((l) => ({
      id: String(l._id),
      name: pd?.openFor(leadCtx({ corpId, leadId: String(l._id) }, 'nameEnc'), l.nameEnc) ?? null,
      source: l.source,
      advisorUserid: l.advisorUserid ?? null,
      createdAt: l.createdAt,
      slaLevel: l.slaLevel ?? 0,
      overdue: Boolean(l.slaDueAt && l.slaDueAt.getTime() < now.getTime()),
    }));
  return {
    total: rowOf('all', leads),
    bySource: groupBy(leads, (l) => l.source),
    byAdvisor: groupBy(leads, (l) => l.advisorUserid ?? '(unassigned)'),
    uncontacted,
  };
}
