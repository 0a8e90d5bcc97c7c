import { Counter, type Registry } from 'prom-client';
import type { WorkerOptions } from 'bullmq';
import type { Alerter } from '../../src/infra/alerts.js';

/** WeCom accepts a welcome code for 20 s after the add event (docs/wecom.md §3.9). */
export const WELCOME_WINDOW_MS = 20_000;

/**
 * The welcome lane's timing (docs/reliability.md, "Welcome deadline"):
 * - `lockDurationMs` / `stalledIntervalMs`: a worker killed while it holds welcome jobs loses
 *   their locks after at most 5 s, and another worker's stalled-job check (every 2 s) moves them
 *   back to waiting, so they run again 5–7 s after the crash, inside the 20 s window. BullMQ
 *   renews a lock every lockDuration / 2 (2.5 s): an event loop blocked for more than 5 s would
 *   make a live job look stalled. That costs a second attempt, not a second welcome: the code is
 *   single-use (WeCom answers 41050, final), and the lane's own CPU work per job is milliseconds
 *   (bench:welcome), far from a 5 s block. BullMQ's default of 30 s expires the code first.
 * - `maxStalledCount`: two crashes in a row still get a third try (the window decides anyway).
 * - `sendMarginMs`: the send must start this long before the code's 20 s are up, for the request
 *   to reach WeCom (a call usually takes tens of ms; 2 s covers a slow network and a busy CPU).
 * - `gatherMs`: woken up after its queue ran empty, the welcome worker waits this long before it
 *   takes the next job, so the adds of that moment are taken together (jobs/gathering-worker.ts):
 *   fewer Redis round trips per welcome for a delay far inside the window.
 * - `readBudgetMs`: each MongoDB read of the lane (rules, advisor, execution record) gets at most
 *   this long on the client (and maxTimeMS on the server); a stalled database fails the attempt
 *   and the retry's age check decides, instead of the send going out after the stall.
 */
export const WELCOME_LANE_TIMING = {
  lockDurationMs: 5000,
  stalledIntervalMs: 2000,
  maxStalledCount: 2,
  sendMarginMs: 2000,
  gatherMs: 50,
  readBudgetMs: 3000,
} as const;

/** The BullMQ worker options that give the lane its deadline. */
export const welcomeWorkerOptions: Partial<WorkerOptions> = {
  lockDuration: WELCOME_LANE_TIMING.lockDurationMs,
  stalledInterval: WELCOME_LANE_TIMING.stalledIntervalMs,
  maxStalledCount: WELCOME_LANE_TIMING.maxStalledCount,
};

/** Raise `welcome_missed` when a corp misses this many welcomes within the window. */
export const WELCOME_MISSED_ALERT = { threshold: 3, windowMs: 10 * 60_000 } as const;

/**
 * Why a welcome was not sent in time: `expired` — the job started after the window; `deadline`
 * — the window ran out before the call (reads or a stall in between); `failed` — the last attempt
 * failed (WeCom errors, MongoDB over budget).
 */
export type WelcomeMissReason = 'expired' | 'deadline' | 'failed';

const counters = new WeakMap<Registry, Counter<'corp' | 'reason'>>();

/** `scrm_welcomes_missed_total{corp,reason}` on the process's registry (created once per registry). */
export function welcomesMissedCounter(registry: Registry): Counter<'corp' | 'reason'> {
  let counter = counters.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'scrm_welcomes_missed_total',
      help: 'Welcomes not sent because the welcome code could no longer be valid when WeCom got it, by corp and reason',
      labelNames: ['corp', 'reason'],
      registers: [registry],
    });
    counters.set(registry, counter);
  }
  return counter;
}

/** Counts a missed welcome and raises the operator alert past WELCOME_MISSED_ALERT. */
export function noteMissedWelcome(
  deps: { registry?: Registry; alerts?: Alerter },
  corpId: string,
  reason: WelcomeMissReason,
): void {
  if (deps.registry) welcomesMissedCounter(deps.registry).inc({ corp: corpId, reason });
  deps.alerts?.count(
    'welcome_missed',
    corpId,
    WELCOME_MISSED_ALERT.threshold,
    WELCOME_MISSED_ALERT.windowMs,
    `welcomes of corp ${corpId} are being missed (last: ${reason}); check the welcome worker's queue wait, CPU and MongoDB latency`,
    { reason },
  );
}
