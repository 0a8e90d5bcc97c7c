/**
 * Imports vehicles (and customer attributes) from a DMS CSV export:
 *   npm run import:vehicles -- --corp <corpId> vehicles.csv [--rejected rejected.csv]
 * Prints a summary (created / updated / unchanged / linked / rejected with line numbers) and writes
 * the rejected rows with their reasons to a CSV. Re-importing the same file changes nothing.
 * Exit codes: 0 all rows imported, 1 some rows rejected, 2 usage, 65 bad file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { corpProfile } from '../src/domain/corps/corp-queries.js';
import { IMPORT_COLUMNS, importVehicleRows, unknownColumns } from '../src/domain/vehicles/vehicle-import.js';
import { fail, openCliContext } from './lib/cli-context.js';
import { readCsvRows, reportRejected } from './lib/csv-import.js';
import { createProgress } from './lib/progress.js';

const USAGE = 'usage: npm run import:vehicles -- --corp <corpId> <file.csv> [--rejected <out.csv>]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { corp: { type: 'string' }, rejected: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) return void console.log(`${USAGE}\ncolumns: ${Object.keys(IMPORT_COLUMNS).join(', ')}`);
  const file = positionals[0];
  if (!values.corp || !file || positionals.length > 1) fail(USAGE);
  if (!existsSync(file)) fail(`no such file: ${file}`, 65);
  const rejectedPath = values.rejected ?? file.replace(/(\.csv)?$/i, '.rejected.csv');

  const headerLine =
    readFileSync(file, 'utf8')
      .split(/\r?\n/, 1)[0]
      ?.replace(/^\uFEFF/, '') ?? '';
  const headers = headerLine.split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const unknown = unknownColumns(headers);
  if (unknown.length > 0)
    fail(`unknown column(s) ${unknown.join(', ')}; the columns are: ${Object.keys(IMPORT_COLUMNS).join(', ')}`, 65);
  if (!headers.map((h) => h.toLowerCase()).includes('vin')) fail('the file needs a "vin" column', 65);
  const total =
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '').length - 1;

  const ctx = await openCliContext('import-vehicles');
  try {
    const corp = await corpProfile(values.corp);
    if (!corp) fail(`unknown corp ${values.corp}: add it first with npm run corp -- add`, 65);
    if (corp.kind === 'oem')
      fail(`corp ${values.corp} is the car maker's own corp; vehicles belong to dealer corps`, 65);
    const progress = createProgress(`importing ${file}`, total);
    const summary = await importVehicleRows(
      {
        corpId: values.corp,
        timeZone: corp.timezone ?? ctx.config.defaultTimezone,
        pd: ctx.pd,
        queues: ctx.queues,
        now: () => new Date(),
      },
      readCsvRows(file),
      (done) => progress.update(done),
    );
    progress.finish(summary.rows);
    console.log(
      `rows ${summary.rows}: created ${summary.created}, updated ${summary.updated}, unchanged ${summary.unchanged}, linked ${summary.linked}, rejected ${summary.rejected.length}`,
    );
    reportRejected(summary.rejected, rejectedPath);
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => fail(`import failed: ${(err as Error).message}`, 1));
