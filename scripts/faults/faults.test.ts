/**
 * The fault-injection suite at CI size (docs/reliability.md, "Fault-injection suite"): the real
 * web, worker and welcome worker processes against a private redis-server, the dev MongoDB server
 * in its own process and the WeCom sandbox; add callbacks with a ledger; one fault per scenario.
 * `FAULTS_N` adds per scenario (default 9); `FAULTS_SCENARIOS` a comma-separated list of
 * scenario names (default: every scenario but the on-demand ones, so CI injects each fault of the matrix once; the kill -9
 * scenarios wait out BullMQ's 30 s locks of the other queues and take a minute or two each).
 * `npm run test:faults` runs them with more adds and repeats the Redis stall; the welcome lane's
 * kill -9 has its own test in jobs/processors/welcome-deadline.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackends, type Backends } from './bot-stack.js';
import { runScenario, scenarios, tableRow } from './scenarios.js';

const N = Number(process.env.FAULTS_N ?? 9);
const PICKED = process.env.FAULTS_SCENARIOS
  ? process.env.FAULTS_SCENARIOS.split(',').map((s) => s.trim())
  : scenarios.filter((s) => !s.onDemand).map((s) => s.name);

let backends: Backends;

beforeAll(async () => {
  backends = await startBackends();
}, 120_000);

afterAll(async () => {
  await backends?.stop();
});

describe('fault-injection suite', () => {
  for (const scenario of scenarios.filter((s) => PICKED.includes(s.name))) {
    it(`${scenario.name}: ${scenario.expectLoss ? 'the ledger sees the deleted jobs as lost' : 'no acknowledged add lost or duplicated, later adds fully processed'}`, async () => {
      const row = await runScenario(backends, scenario, { n: N, perSecond: 10, run: 1 });
      console.table([tableRow(row)]);
      if (scenario.expectLoss) {
        expect(row.lost).toBeGreaterThan(0);
      } else {
        expect(row.lostDetail).toEqual({ customer: 0, tag: 0, followUp: 0 });
        expect(row.duplicated).toBe(0);
        expect(row.laterComplete).toBe(row.laterAcked);
      }
    }, 300_000);
  }
});
