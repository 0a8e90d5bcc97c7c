import { createReadStream, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse';
import { toCsv } from '../../src/infra/csv.js';

/** One data row of an import CSV, with its line number in the file (for the rejected-rows report). */
export interface CsvRow {
  line: number;
  record: Record<string, string>;
}

/** Streams a CSV's rows as header-keyed records (BOM, blank lines and ragged rows tolerated). */
export async function* readCsvRows(file: string): AsyncIterable<CsvRow> {
  const parser = createReadStream(file).pipe(
    parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    yield { line: info.lines, record };
  }
}

/**
 * The import CLIs' rejected-rows report: writes the rows with an `errors` column to `path`,
 * prints the first 10 reasons and sets exit code 1. Nothing when no row was rejected.
 */
export function reportRejected(
  rejected: ReadonlyArray<{ line: number; record: Record<string, string>; problems: string[] }>,
  path: string,
): void {
  if (rejected.length === 0) return;
  writeFileSync(
    path,
    toCsv(
      rejected.map((r) => ({ line: r.line, ...r.record, errors: r.problems.join('; ') })),
      { header: true, bom: true },
    ),
  );
  for (const r of rejected.slice(0, 10)) console.log(`  line ${r.line}: ${r.problems.join('; ')}`);
  if (rejected.length > 10) console.log(`  … ${rejected.length - 10} more`);
  console.log(`rejected rows written to ${path}`);
  process.exitCode = 1;
}
