/**
 * The load generator of the ingest benchmark: autocannon, in the benchmark's own process (the
 * server under test is a child process), handing out pre-generated callbacks through one shared
 * counter in `setupRequest`. Latencies are collected raw from autocannon's `response` events so
 * percentiles are exact and carry no coordinated-omission rewrite (see `paced`).
 */
import { createRequire } from 'node:module';
import type { BenchCallback } from './callbacks.js';
import { percentile } from './stats.js';

interface AutocannonRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonSummary {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  opts: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonSummary) => void,
) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  sent: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  elapsedS: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

/** Hands out the pool in order, one callback per request, across every autocannon client. */
function poolRequest(pool: BenchCallback[]): AutocannonRequest {
  let next = 0;
  return {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    setupRequest: (req) => {
      if (next >= pool.length) throw new Error('callback pool exhausted: a request would repeat a callback');
      const item = pool[next++] as BenchCallback;
      return { ...req, path: item.path, body: item.body };
    },
  };
}

/** `lastAt`: when the last response arrived (performance.now()); the run's end for the rate. */
interface Tally {
  latencies: number[];
  ok2xx: number;
  non2xx: number;
  errors: number;
  lastAt: number;
}

function runInstance(opts: Record<string, unknown>, tally: Tally): Promise<void> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => {
      if (err) return reject(err);
      tally.errors += result.errors + result.timeouts;
      resolve();
    });
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      tally.lastAt = performance.now();
      if (statusCode >= 200 && statusCode < 300) {
        tally.ok2xx += 1;
        tally.latencies.push(ms);
      } else {
        tally.non2xx += 1;
      }
    });
  });
}

/**
 * `rampS`: time spent starting staggered lanes, excluded from the rate (all lanes run the same
 * length). `minElapsedS`: a paced run's nominal length (autocannon's per-connection rate hands out
 * each second's budget at the tick, so the last response comes up to a second before it ends).
 */
function summarise(tally: Tally, startedAt: number, rampS = 0, minElapsedS = 0): LoadResult {
  // Measured to the last response, not to autocannon's done callback: autocannon notices that
  // `amount` is reached on its once-a-second tick, which added up to a second to every run and
  // made a 2-second run read as 3 (rates snapped to amount / whole seconds).
  const endedAt = tally.lastAt > startedAt ? tally.lastAt : performance.now();
  const elapsedS = Math.max((endedAt - startedAt) / 1000 - rampS, minElapsedS);
  const sent = tally.ok2xx + tally.non2xx + tally.errors;
  return {
    sent,
    ok2xx: tally.ok2xx,
    non2xx: tally.non2xx,
    errors: tally.errors,
    elapsedS,
    rps: tally.ok2xx / elapsedS,
    p50: percentile(tally.latencies, 50),
    p99: percentile(tally.latencies, 99),
    max: percentile(tally.latencies, 100),
  };
}

/**
 * Closed loop, as fast as possible: `connections` keep one request in flight each until the
 * whole pool is sent (a fixed amount, not a duration, so no request is cut off mid-flight and
 * every 200 can be matched to a job).
 */
export async function saturate(url: string, pool: BenchCallback[], connections = 50): Promise<LoadResult> {
  const tally: Tally = { latencies: [], ok2xx: 0, non2xx: 0, errors: 0, lastAt: 0 };
  const startedAt = performance.now();
  await runInstance({ url, connections, amount: pool.length, requests: [poolRequest(pool)] }, tally);
  return summarise(tally, startedAt);
}

/**
 * Open-ish loop at a fixed overall rate. autocannon's own `overallRate` is a per-second budget per
 * connection: every connection fires its share back to back at the start of each second, so a
 * "1,000 req/s" run is really a 50-connection burst each second and its p99 measures how fast the
 * server drains a burst (and its coordinated-omission correction uses a 1 ms expected interval,
 * inflating slow samples). Here `lanes` single-connection instances each send rate/lanes per
 * second, started 1000/lanes ms apart, so requests arrive spread evenly over the second.
 */
export async function paced(
  url: string,
  pool: BenchCallback[],
  rate: number,
  durationS: number,
  lanes = 50,
): Promise<LoadResult> {
  const perLane = rate / lanes;
  if (!Number.isInteger(perLane)) throw new Error(`rate ${rate} must divide evenly into ${lanes} lanes`);
  if (pool.length < rate * durationS)
    throw new Error(`pool of ${pool.length} is smaller than ${rate * durationS} requests`);
  const request = poolRequest(pool);
  const tally: Tally = { latencies: [], ok2xx: 0, non2xx: 0, errors: 0, lastAt: 0 };
  const startedAt = performance.now();
  const runs: Promise<void>[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    runs.push(
      new Promise<void>((resolve) => setTimeout(resolve, (lane * 1000) / lanes)).then(() =>
        runInstance(
          { url, connections: 1, connectionRate: perLane, amount: perLane * durationS, requests: [request] },
          tally,
        ),
      ),
    );
  }
  await Promise.all(runs);
  return summarise(tally, startedAt, (lanes - 1) / lanes, durationS);
}
