/**
 * `npm run kpis:backfill -- --corp <corpId> --from YYYY-MM-DD --to YYYY-MM-DD` (docs/cockpit.md):
 * recomputes the cockpit's daily rollups of one corp for every corp-local day in [from, to)
 * (to exclusive), in the corp's time zone. Idempotent: running it twice yields the same rollups.
 * Exits non-zero with a message on bad input.
 */
import { parseArgs } from 'node:util';
import { corpProfile } from '../src/domain/corps/corp-queries.js';
import { isLocalDay } from '../src/domain/kpis/kpi-days.js';
import { rollupRange } from '../src/domain/kpis/rollup.service.js';
import { loadConfigOrExit } from '../src/infra/bootstrap.js';
import { createLogger } from '../src/infra/logger.js';
import { connectMongo, disconnectMongo } from '../src/infra/mongo.js';

const MAX_DAYS = 800;

function fail(message: string): never {
  console.error(
    `kpis:backfill: ${message}\nusage: npm run kpis:backfill -- --corp <corpId> --from YYYY-MM-DD --to YYYY-MM-DD   (to is exclusive)`,
  );
  process.exit(2);
}

/** Parsed and checked arguments, or an exit with what to fix. */
export function parseBackfillArgs(argv: string[]): { corp: string; from: string; to: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: { corp: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  const { corp, from, to } = values as { corp?: string; from?: string; to?: string };
  if (!corp) fail('--corp is required');
  if (!from || !isLocalDay(from)) fail(`--from must be a date like 2026-01-01 (got ${from ?? 'nothing'})`);
  if (!to || !isLocalDay(to)) fail(`--to must be a date like 2026-02-01 (got ${to ?? 'nothing'})`);
  if (from >= to) fail('--from must be before --to (to is exclusive)');
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > MAX_DAYS)
    fail(`at most ${MAX_DAYS} days per run; split the range`);
  return { corp, from, to };
}

async function main(): Promise<void> {
  const args = parseBackfillArgs(process.argv.slice(2));
  const config = loadConfigOrExit(process.env, 'kpis-backfill');
  const logger = createLogger({ level: config.logLevel, name: 'kpis-backfill' });
  await connectMongo({
    uri: config.mongo.uri,
    serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs,
    logger,
  });
  try {
    const corp = await corpProfile(args.corp);
    if (!corp) fail(`no corp ${args.corp} (list corps with npm run corp -- list)`);
    if (corp.kind === 'oem') fail(`${args.corp} is the car maker's corp; it has no customers to roll up`);
    let total = 0;
    await rollupRange(
      {
        corpId: args.corp,
        timeZone: corp.timezone || config.defaultTimezone,
        now: new Date(),
        from: args.from,
        to: args.to,
      },
      (r, ms) => {
        total += r.advisors;
        console.log(`${r.day}  advisors ${r.advisors}  tasks read ${r.docsRead.tasks}  ${ms.toFixed(0)} ms`);
      },
    );
    console.log(`done: ${args.corp} ${args.from} → ${args.to} (${total} advisor-days)`);
  } finally {
    await disconnectMongo();
  }
}

main().catch((err: unknown) => {
  console.error(`kpis:backfill failed: ${(err as Error).message}`);
  process.exit(1);
});
