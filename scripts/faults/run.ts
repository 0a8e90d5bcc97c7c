/**
 * `npm run test:faults`: the fault-injection suite by hand (docs/reliability.md, "Fault-injection
 * suite"). Flags: `--n 60` adds per run (a third before the fault, a third during, a third after),
 * `--rate 10` adds per second, `--runs 10` repetitions of the Redis-stall scenario (the others
 * run once), `--only <substring>` to pick scenarios. Prints a table per run and writes
 * bench-results/faults.json; exits 1 when a run lost or duplicated anything (or the negative
 * control lost nothing).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startBackends } from './bot-stack.js';
import { runScenario, scenarios, tableRow, type ScenarioRow } from './scenarios.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '60' },
      rate: { type: 'string', default: '10' },
      runs: { type: 'string', default: '10' },
      only: { type: 'string' },
    },
  });
  const n = Number(values.n);
  const perSecond = Number(values.rate);
  const runsOfStall = Number(values.runs);
  const picked = scenarios.filter((s) => !values.only || s.name.toLowerCase().includes(values.only.toLowerCase()));
  const backends = await startBackends();
  const rows: ScenarioRow[] = [];
  try {
    for (const scenario of picked) {
      const runs = scenario.name.startsWith('Redis SIGSTOP') ? runsOfStall : 1;
      for (let run = 1; run <= runs; run++) {
        const row = await runScenario(backends, scenario, { n, perSecond, run });
        rows.push(row);
        printRow(row);
      }
    }
  } finally {
    await backends.stop();
  }
  console.log('\nFault-injection suite: all runs');
  console.table(rows.map(tableRow));
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/faults.json',
    JSON.stringify({ n, perSecond, at: new Date().toISOString(), rows }, null, 2),
  );
  const failed = rows.filter((r) => !r.pass);
  console.log(
    failed.length ? `FAILED: ${failed.map((r) => `${r.scenario} #${r.run}`).join(', ')}` : 'every run passed',
  );
  process.exitCode = failed.length ? 1 : 0;
}

function printRow(r: ScenarioRow): void {
  console.table([tableRow(r)]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
