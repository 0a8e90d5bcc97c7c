import { ingestLeads, type LeadIntakeDeps } from './lead-intake.js';

/** CSV column → lead field (README "Leads"). Headers are case-insensitive. */
export const LEAD_COLUMNS: Readonly<Record<string, string>> = {
  source: 'source',
  source_id: 'sourceId',
  name: 'name',
  mobile: 'mobile',
  model: 'model',
  budget: 'budget',
  preferred_time: 'preferredTime',
  consent_ref: 'consentRef',
  at: 'at',
};

export function unknownLeadColumns(headers: string[]): string[] {
  return headers.filter((h) => h !== '' && !(h.toLowerCase() in LEAD_COLUMNS));
}

export interface LeadImportRow {
  line: number;
  record: Record<string, string>;
}

export interface LeadImportSummary {
  rows: number;
  created: number;
  merged: number;
  unassigned: number;
  rejected: Array<{ line: number; record: Record<string, string>; problems: string[] }>;
}

function toInput(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, value] of Object.entries(record)) {
    const field = LEAD_COLUMNS[header.toLowerCase()];
    if (field && value !== '') out[field] = value;
  }
  return out;
}

/**
 * Imports lead rows through the one intake (`ingestLeads`): de-duplicated (also within the file),
 * routed and carded like any other lead. Rejected rows come back with their line and reasons;
 * personal data never goes to the log. Re-importing a file merges every row as repeat interest.
 */
export async function importLeadRows(
  deps: LeadIntakeDeps,
  corpId: string,
  rows: AsyncIterable<LeadImportRow> | Iterable<LeadImportRow>,
  actor: string,
  onProgress?: (done: number) => void,
): Promise<LeadImportSummary> {
  const summary: LeadImportSummary = { rows: 0, created: 0, merged: 0, unassigned: 0, rejected: [] };
  let chunk: LeadImportRow[] = [];
  const flush = async () => {
    const results = await ingestLeads(
      deps,
      corpId,
      chunk.map((r) => toInput(r.record)),
      { actor },
    );
    for (const r of results) {
      const row = chunk[r.index];
      if (!row) continue;
      if (r.status === 'created') {
        summary.created++;
        if (!r.advisorUserid) summary.unassigned++;
      } else if (r.status === 'merged') summary.merged++;
      else
        summary.rejected.push({
          line: row.line,
          record: row.record,
          problems: r.problems.map((p) => `${p.path.replace(/^\//, '') || 'row'}: ${p.message}`),
        });
    }
    summary.rows += chunk.length;
    chunk = [];
    onProgress?.(summary.rows);
  };
  for await (const row of rows) {
    chunk.push(row);
    if (chunk.length >= 200) await flush();
  }
  if (chunk.length) await flush();
  return summary;
}
