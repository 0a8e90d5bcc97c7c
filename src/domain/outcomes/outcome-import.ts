import { ingestOutcomeItems } from './outcome-batch.js';
import type { OutcomeDeps } from './outcome.service.js';

/** CSV header → field (docs/outcomes.md; README "Outcomes from your DMS"). Unknown columns are refused up front. */
export const OUTCOME_COLUMNS = {
  source: 'source',
  external_id: 'externalId',
  version: 'version',
  type: 'type',
  status: 'status',
  occurred_at: 'occurredAt',
  vin: 'vin',
  mobile: 'mobile',
  ro_number: 'roNumber',
  ro_type: 'roType',
  closed_at: 'closedAt',
  labour_amount: 'labourAmount',
  parts_amount: 'partsAmount',
  mileage_km: 'mileageKm',
  service_advisor: 'serviceAdvisor',
  policy_number: 'policyNumber',
  insurer: 'insurer',
  policy_end: 'policyEnd',
  premium: 'premium',
  policy_kind: 'policyKind',
  sale_kind: 'saleKind',
  model: 'model',
  sale_amount: 'saleAmount',
} as const;

export const REQUIRED_OUTCOME_COLUMNS = ['external_id', 'version', 'type', 'occurred_at'];

export interface OutcomeImportRow {
  line: number;
  record: Record<string, string>;
}
export interface OutcomeImportSummary {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  stale: number;
  matched: number;
  rejected: Array<OutcomeImportRow & { problems: string[] }>;
}

export function unknownOutcomeColumns(headers: readonly string[]): string[] {
  return headers.filter((h) => !(h.trim().toLowerCase() in OUTCOME_COLUMNS));
}

function toItem(record: Record<string, string>): Record<string, string> {
  const item: Record<string, string> = {};
  for (const [header, raw] of Object.entries(record)) {
    const field = OUTCOME_COLUMNS[header.trim().toLowerCase() as keyof typeof OUTCOME_COLUMNS];
    const value = raw?.trim();
    if (field && value) item[field] = value; // an empty cell is an absent field
  }
  return item;
}

/**
 * Imports DMS outcome rows with the API's validation and idempotent upsert, 500 rows at a time:
 * a rejected row changes nothing; re-importing the same file leaves everything unchanged.
 */
export async function importOutcomeRows(
  deps: OutcomeDeps,
  rows: AsyncIterable<OutcomeImportRow>,
  onRows: (done: number) => void = () => undefined,
): Promise<OutcomeImportSummary> {
  const summary: OutcomeImportSummary = {
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    matched: 0,
    rejected: [],
  };
  let chunk: OutcomeImportRow[] = [];
  const flush = async () => {
    const answer = await ingestOutcomeItems(
      deps,
      chunk.map((r) => ({ pointer: '', raw: toItem(r.record) })),
      'import',
    );
    answer.results.forEach((result, i) => {
      const row = chunk[i] as OutcomeImportRow;
      if (result.status === 'rejected')
        summary.rejected.push({
          ...row,
          problems: result.problems.map((p) => `${p.path.replace(/^\//, '') || 'row'}: ${p.message}`),
        });
      else {
        summary[result.status]++;
        if (result.matchedBy !== 'none') summary.matched++;
      }
    });
    summary.rows += chunk.length;
    onRows(summary.rows);
    chunk = [];
  };
  for await (const row of rows) {
    chunk.push(row);
    if (chunk.length >= 500) await flush();
  }
  if (chunk.length > 0) await flush();
  return summary;
}
