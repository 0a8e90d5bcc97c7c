/**
 * Imports DMS outcomes (appointments, repair orders, insurance policies, vehicle sales) from CSV:
 *   npm run import:outcomes -- --corp <corpId> outcomes.csv [--rejected rejected.csv]
 * Prints a summary and writes rejected rows with their reasons to a CSV. Re-importing the same
 * file changes nothing (docs/outcomes.md). Exit codes: 0 all rows imported, 1 some rows rejected,
 * 2 usage, 65 bad file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CorpModel } from '../src/domain/corps/corp.model.js';
import {
  importOutcomeRows,
  OUTCOME_COLUMNS,
  REQUIRED_OUTCOME_COLUMNS,
  unknownOutcomeColumns,
} from '../src/domain/outcomes/outcome-import.js';
import { fail, openCliContext } from './lib/cli-context.js';
import { readCsvRows, reportRejected } from './lib/csv-import.js';
import { createProgress } from './lib/progress.js';

const USAGE = 'usage: npm run import:outcomes -- --corp <corpId> <file.csv> [--rejected <out.csv>]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { corp: { type: 'string' }, rejected: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) return void console.log(`${USAGE}\ncolumns: ${Object.keys(OUTCOME_COLUMNS).join(', ')}`);
  const file = positionals[0];
  if (!values.corp || !file || positionals.length > 1) fail(USAGE);
  if (!existsSync(file)) fail(`no such file: ${file}`, 65);
  const rejectedPath = values.rejected ?? file.replace(/(\.csv)?$/i, '.rejected.csv');
  const text = readFileSync(file, 'utf8');
  const headers = (text.split(/\r?\n/, 1)[0]?.replace(/^\uFEFF/, '') ?? '')
    .split(',')
    .map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  const unknown = unknownOutcomeColumns(headers);
  if (unknown.length > 0)
    fail(`unknown column(s) ${unknown.join(', ')}; the columns are: ${Object.keys(OUTCOME_COLUMNS).join(', ')}`, 65);
  const missing = REQUIRED_OUTCOME_COLUMNS.filter((c) => !headers.includes(c));
  if (missing.length > 0) fail(`the file needs the column(s) ${missing.join(', ')}`, 65);
  const total = text.split(/\r?\n/).filter((l) => l.trim() !== '').length - 1;

  const ctx = await openCliContext('import-outcomes');
  try {
    const corp = await CorpModel.findOne({ corpId: values.corp }, { timezone: 1, kind: 1 }).lean();
    if (!corp) fail(`unknown corp ${values.corp}: add it first with npm run corp -- add`, 65);
    if (corp.kind === 'oem')
      fail(`corp ${values.corp} is the car maker's own corp; outcomes belong to dealer corps`, 65);
    const progress = createProgress(`importing ${file}`, total);
    const summary = await importOutcomeRows(
      {
        corpId: values.corp,
        timeZone: corp.timezone ?? ctx.config.defaultTimezone,
        pd: ctx.pd,
        queues: ctx.queues,
        now: () => new Date(),
        logger: ctx.logger,
      },
      readCsvRows(file),
      (done) => progress.update(done),
    );
    progress.finish(summary.rows);
    console.log(
      `rows ${summary.rows}: created ${summary.created}, updated ${summary.updated}, unchanged ${summary.unchanged}, older versions ignored ${summary.stale}, matched to an owner ${summary.matched}, rejected ${summary.rejected.length}`,
    );
    reportRejected(summary.rejected, rejectedPath);
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => fail(`import failed: ${(err as Error).message}`, 1));
