/**
 * Imports leads from a CSV (README "Leads" lists the columns):
 *   npm run import:leads -- --corp <corpId> leads.csv [--rejected rejected.csv]
 * Each row goes through the same intake as the API: de-duplicated, routed, carded. Prints a summary
 * (created / merged as repeat interest / waiting for routing / rejected with line numbers) and
 * writes rejected rows with their reasons to a CSV. Exit codes: 0 all rows taken, 1 some rows
 * rejected, 2 usage, 65 bad file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importLeadRows, LEAD_COLUMNS, unknownLeadColumns } from '../src/domain/acquisition/lead-import.js';
import { CorpModel } from '../src/domain/corps/corp.model.js';
import { parseStoredTaskSettings } from '../src/domain/tasks/task-settings.js';
import { SystemClock } from '../src/infra/clock.js';
import { fail, openCliContext } from './lib/cli-context.js';
import { readCsvRows, reportRejected } from './lib/csv-import.js';
import { createProgress } from './lib/progress.js';

const USAGE = 'usage: npm run import:leads -- --corp <corpId> <file.csv> [--rejected <out.csv>]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { corp: { type: 'string' }, rejected: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) return void console.log(`${USAGE}\ncolumns: ${Object.keys(LEAD_COLUMNS).join(', ')}`);
  const file = positionals[0];
  if (!values.corp || !file || positionals.length > 1) fail(USAGE);
  if (!existsSync(file)) fail(`no such file: ${file}`, 65);
  const rejectedPath = values.rejected ?? file.replace(/(\.csv)?$/i, '.rejected.csv');
  const text = readFileSync(file, 'utf8');
  const headers = (text.split(/\r?\n/, 1)[0]?.replace(/^\uFEFF/, '') ?? '')
    .split(',')
    .map((h) => h.trim().replace(/^"|"$/g, ''));
  const unknown = unknownLeadColumns(headers);
  if (unknown.length > 0)
    fail(`unknown column(s) ${unknown.join(', ')}; the columns are: ${Object.keys(LEAD_COLUMNS).join(', ')}`, 65);
  const lower = headers.map((h) => h.toLowerCase());
  if (!lower.includes('source')) fail('the file needs a "source" column', 65);
  if (!lower.includes('mobile') && !lower.includes('source_id'))
    fail('the file needs a "mobile" or a "source_id" column', 65);
  const total = text.split(/\r?\n/).filter((l) => l.trim() !== '').length - 1;

  const ctx = await openCliContext('import-leads');
  try {
    const corp = await CorpModel.findOne({ corpId: values.corp }, { timezone: 1, kind: 1, tasks: 1 }).lean();
    if (!corp) fail(`unknown corp ${values.corp}: add it first with npm run corp -- add`, 65);
    if (corp.kind === 'oem') fail(`corp ${values.corp} is the car maker's own corp; leads belong to dealer corps`, 65);
    const progress = createProgress(`importing ${file}`, total);
    const summary = await importLeadRows(
      {
        pd: ctx.pd,
        queues: ctx.queues,
        clock: new SystemClock(),
        timeZone: corp.timezone ?? ctx.config.defaultTimezone,
        workingHours: parseStoredTaskSettings(corp.tasks).workingHours,
      },
      values.corp,
      readCsvRows(file),
      `import:${file.split('/').pop() ?? 'csv'}`,
      (done) => progress.update(done),
    );
    progress.finish(summary.rows);
    console.log(
      `rows ${summary.rows}: created ${summary.created} (waiting for routing ${summary.unassigned}), merged as repeat interest ${summary.merged}, rejected ${summary.rejected.length}`,
    );
    reportRejected(summary.rejected, rejectedPath);
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => fail(`import failed: ${(err as Error).message}`, 1));
