import type { Redis } from 'ioredis';
import { runLadder } from './escalation.js';
import type { TaskDeps } from './task-deps.js';
import { advisorsWithPending, deliverPending } from './task-notify.js';
import { pollDueTransfers } from './transfer.service.js';

export interface TickSummary {
  transfers: number;
  steps: number;
  notified: number;
  digests: number;
  deferred: number;
}

/**
 * One corp's minute of follow-up housekeeping: transfer results due for a poll, the escalation
 * ladder (checkpoints due), then
 * every advisor's owed notifications (cards moved to working hours, snoozes, re-homed tasks,
 * anything a lost notify job missed).
 */
export async function runTaskTick(deps: TaskDeps): Promise<TickSummary> {
  const transfers = await pollDueTransfers(deps);
  const ladder = await runLadder(deps);
  const summary: TickSummary = { transfers, steps: ladder.steps, notified: 0, digests: 0, deferred: ladder.deferred };
  for (const advisor of await advisorsWithPending(deps.corpId, deps.clock.now())) {
    const out = await deliverPending(deps, advisor);
    if (out === 'busy' || out === 'not_settled') continue;
    summary.notified += out.cards;
    summary.digests += out.digest > 0 ? 1 : 0;
    summary.deferred += out.deferred;
  }
  return summary;
}

/**
 * The tick for all corps under one Redis lock (a slow run never overlaps the next). `waitMs`
 * lets an on-demand run (tests, demo) wait for a scheduled one to finish instead of skipping.
 */
export async function runTaskTickExclusive(
  redis: Redis,
  prefix: string,
  depsList: TaskDeps[],
  opts: { waitMs?: number } = {},
): Promise<TickSummary[] | { skipped: true }> {
  const key = `${prefix}:lock:tasks-tick`;
  const token = `${process.pid}-${Math.random()}`;
  // Lock waits are real time (how long another process holds it), not business time.
  const deadline = Date.now() + (opts.waitMs ?? 0);
  while ((await redis.set(key, token, 'PX', 120_000, 'NX')) !== 'OK') {
    if (Date.now() >= deadline) return { skipped: true };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    const out: TickSummary[] = [];
    for (const deps of depsList) out.push(await runTaskTick(deps));
    return out;
  } finally {
    await redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      key,
      token,
    );
  }
}
