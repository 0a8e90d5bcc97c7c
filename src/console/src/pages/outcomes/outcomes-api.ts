import { call, type ApiError } from '../../lib/api.js';
import type { Jsonify } from '../../lib/api-types.js';
import type {
  CarMakerOutcomeKpis as ServerCarMakerOutcomeKpis,
  OutcomeKpis as ServerOutcomeKpis,
} from '../../../../domain/outcomes/outcome-kpis.js';
import type { CampaignReport as ServerCampaignReport } from '../../../../domain/outcomes/campaign-report.js';

/** Result KPIs (`GET /api/v1/kpis/outcomes`, docs/outcomes.md "KPIs") and the campaign report, as JSON. */
export type OutcomeKpis = Jsonify<ServerOutcomeKpis>;
export type CampaignReport = Jsonify<ServerCampaignReport>;
/** One dealer's row in the car maker's results. */
export type CarMakerDealerRow = Jsonify<ServerCarMakerOutcomeKpis['dealers'][number]>;
export type FunnelBy = 'rule' | 'advisor';
export interface UnreachableOwners {
  total: number;
  items: Array<{ vin: string; salesUserid?: string; linked: boolean }>;
}

const enc = encodeURIComponent;

/**
 * A corp-local day (`YYYY-MM-DD`) as the instant the outcomes API takes. The console does not know
 * the corp's zone, so it uses the default one (Asia/Shanghai, UTC+8, docs/cockpit.md "Metrics").
 */
export function dayStart(day: string): string {
  return `${day}T00:00:00+08:00`;
}

/** The outcomes pages' calls; `to` is exclusive like the cockpit's `/api/v1/kpis` (a day string). */
export const outcomesApi = {
  /** No `corpId`: the car maker (every dealer the caller may read, summed, with `dealers`). */
  kpis: (q: { corpId?: string; department?: string; advisor?: string; from: string; to: string; by: FunnelBy }) =>
    call<OutcomeKpis & { dealers?: CarMakerDealerRow[] }>(
      'GET',
      `/api/v1/kpis/outcomes?${new URLSearchParams({
        ...(q.corpId ? { corpId: q.corpId } : {}),
        ...(q.department ? { department: q.department } : {}),
        ...(q.advisor ? { advisor: q.advisor } : {}),
        from: dayStart(q.from),
        to: dayStart(q.to),
        by: q.by,
      }).toString()}`,
    ),
  unreachableOwners: (corpId: string, limit = 200) =>
    call<UnreachableOwners>('GET', `/api/v1/outcomes/unreachable-owners?corpId=${enc(corpId)}&limit=${limit}`),
  campaignReport: (ruleId: string, q: { corpId: string; windowDays?: number }) =>
    call<CampaignReport>(
      'GET',
      `/api/v1/campaigns/${enc(ruleId)}/report?${new URLSearchParams({
        corpId: q.corpId,
        ...(q.windowDays ? { windowDays: String(q.windowDays) } : {}),
      }).toString()}`,
    ),
};

/** A message for a failed call: the API's own words (they say what to change). */
export function failureText(err: unknown): string {
  return err instanceof Error ? (err as ApiError).message : String(err);
}

/** A 0..1 rate in whole percent; a dash when there is nothing to divide. */
export function percent(rate: number | null | undefined, digits = 0): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  return `${(rate * 100).toFixed(digits)}%`;
}

/** Yuan with thousands separators and no decimals (revenue figures are sums, cents add nothing). */
export function yuan(amount: number): string {
  return `¥${Math.round(amount).toLocaleString('en-US')}`;
}
