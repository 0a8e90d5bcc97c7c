import { QueueName } from '../../src/queues/queue-names.js';
import { waitFor } from '../../src/testing/wait.js';
import { BotStack, type Backends, type Role } from './bot-stack.js';
import { Ledger, type LedgerResult } from './ledger.js';

/** How long a frozen dependency stays frozen (the Redis and MongoDB stalls of docs/reliability.md). */
export const STALL_MS = 8000;

/** A fault the suite injects between the first and the second third of the adds. */
export interface Scenario {
  name: string;
  /** Rows of the fault matrix (/docs/reliability.md) it covers. */
  rows: string;
  /** Injects the fault and returns once it is over (processes restarted, dependency thawed). */
  inject(stack: BotStack, backends: Backends): Promise<void>;
  /** A negative control must lose: the run fails when it does not. */
  expectLoss?: boolean;
  /** Runs before the first add (arms sandbox faults the injection keys on). */
  prepare?(stack: BotStack, backends: Backends): void;
  /** Run only when named in `FAULTS_SCENARIOS` (a scenario with an open finding; none today). */
  onDemand?: boolean;
}

const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)); // the length of a fault, not a wait for work
const workers: Role[] = ['worker', 'welcome'];

async function restart(stack: BotStack, roles: Role[], stop: (role: Role) => Promise<void>): Promise<void> {
  await Promise.all(roles.map(stop));
  const t0 = Date.now();
  await Promise.all(roles.map((r) => stack.start(r)));
  if (process.env.FAULTS_DEBUG) console.log(`restarted ${roles.join(', ')} in ${Date.now() - t0} ms`);
}

export const scenarios: Scenario[] = [
  { name: 'baseline', rows: '—', inject: async () => undefined },
  { name: 'worker kill -9', rows: 'B1', inject: (stack) => restart(stack, workers, (r) => stack.kill(r)) },
  { name: 'worker SIGTERM', rows: 'B3', inject: (stack) => restart(stack, workers, (r) => stack.terminate(r)) },
  { name: 'web kill -9', rows: 'A1, A3', inject: (stack) => restart(stack, ['web'], (r) => stack.kill(r)) },
  {
    name: 'Redis SIGSTOP 8 s',
    rows: 'B7 (short), B5',
    inject: async (_stack, backends) => {
      backends.redis.freeze();
      try {
        await hold(STALL_MS);
      } finally {
        backends.redis.thaw();
      }
    },
  },
  {
    // The same stall, landing while the worker is inside its first add jobs (a deploy meeting a
    // stall): their refetch from WeCom is slowed by 1.5 s and Redis freezes once all three have
    // started, so the first domain events of the process are emitted into the stall.
    name: 'Redis SIGSTOP 8 s at the first jobs',
    rows: 'B7 (short), B5',
    prepare: (_stack, backends) =>
      void backends.sandbox.context.faults.add({
        endpoint: 'externalcontact/get',
        kind: 'delay',
        delayMs: 1500,
        count: 3,
      }),
    inject: async (_stack, backends) => {
      await waitFor(
        () => backends.sandbox.context.faults.list().length === 0,
        'the worker inside its first three add jobs',
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      backends.redis.freeze();
      try {
        await hold(STALL_MS);
      } finally {
        backends.redis.thaw();
      }
    },
  },
  // SIGTERM with a 1 s grace, then SIGKILL (an orchestrator whose grace period is too short), then a restart.
  {
    name: 'shutdown + kill -9 then restart',
    rows: 'B3, B1',
    inject: (stack) => restart(stack, ['web', 'worker', 'welcome'], (r) => stack.terminate(r, 1000)),
  },
  {
    name: 'MongoDB SIGSTOP 8 s',
    rows: 'C1 (stall)',
    inject: async (_stack, backends) => {
      backends.mongo.process.child.kill('SIGSTOP');
      try {
        await hold(STALL_MS);
      } finally {
        backends.mongo.process.child.kill('SIGCONT');
      }
    },
  },
  {
    // A MongoDB restart while the workers process adds: every operation fails until the server is
    // back on the same port with its data (a graceful stop: the dev server writes its snapshot, as
    // MongoDB's journal keeps acknowledged writes); the driver's retryable writes and the jobs'
    // retries carry the work over, and every idempotent handler runs to one customer, one tag and
    // one follow-up per add (docs/scale.md §2, where a lost tag and follow-up is explained: the
    // dev server's snapshot kept the writes of open transactions).
    name: 'MongoDB restart',
    rows: 'C1 (restart)',
    inject: (_stack, backends) => backends.mongo.restart(),
  },
  {
    name: 'WeCom HTTP 502',
    rows: 'D1',
    inject: async (_stack, backends) =>
      void backends.sandbox.context.faults.add({ endpoint: '*', kind: 'http', status: 502, count: 30 }),
  },
  {
    name: 'WeCom errcode -1',
    rows: 'D1',
    inject: async (_stack, backends) =>
      void backends.sandbox.context.faults.add({ endpoint: '*', kind: 'errcode', errcode: -1, count: 30 }),
  },
  {
    // Jobs deleted behind the bot's back: the ledger must see every one of them as lost.
    name: 'negative control',
    rows: '—',
    expectLoss: true,
    inject: (stack) => stack.terminate('worker'),
  },
];

/** The negative control's second half: delete the waiting inbound jobs, then start the worker again. */
async function dropInboundJobs(stack: BotStack): Promise<void> {
  await stack.queue(QueueName.wecomInbound).drain();
  await stack.start('worker');
}

export interface ScenarioRow extends LedgerResult {
  scenario: string;
  run: number;
  seconds: number;
  pass: boolean;
}

/**
 * One run of one scenario on a fresh bot (own queue prefix and database): a third of the adds,
 * the fault, a third during it, a third after it; then waits (polling, with a deadline) until
 * every acknowledged add is complete or the queues have been idle for a while, and reads the ledger.
 */
export async function runScenario(
  backends: Backends,
  scenario: Scenario,
  opts: { n: number; perSecond: number; run: number },
): Promise<ScenarioRow> {
  const started = Date.now();
  const label = `f${Date.now().toString(36)}${opts.run}`;
  const stack = await BotStack.create(backends, label);
  backends.sandbox.context.faults.clear();
  try {
    await stack.startAll();
    const ledger = new Ledger(backends.sandbox, label);
    const third = Math.max(1, Math.floor(opts.n / 3));
    scenario.prepare?.(stack, backends);
    await ledger.play(third, opts.perSecond, 'before');
    const fault = scenario.inject(stack, backends);
    await ledger.play(third, opts.perSecond, 'during');
    await fault;
    if (scenario.expectLoss) {
      await ledger.delivered();
      await dropInboundJobs(stack);
    }
    backends.sandbox.context.faults.clear();
    await ledger.play(opts.n - 2 * third, opts.perSecond, 'after');
    await ledger.delivered();
    await settle(stack, ledger);
    const result = await ledger.check(stack);
    await ledger.close();
    const pass = scenario.expectLoss ? result.lost > 0 : result.lost === 0 && result.duplicated === 0;
    return {
      scenario: scenario.name,
      run: opts.run,
      ...result,
      seconds: Math.round((Date.now() - started) / 1000),
      pass,
    };
  } finally {
    backends.sandbox.context.faults.clear();
    await stack.stop();
  }
}

/**
 * Done when every acknowledged add is complete and welcomed, or the queues and the domain-event
 * outbox stayed empty for 3 s; at most 90 s (kill -9 leaves inbound jobs locked for 30 s).
 */
async function settle(stack: BotStack, ledger: Ledger): Promise<void> {
  let idleSince = 0;
  await waitFor(
    async () => {
      const r = await ledger.check(stack);
      if (r.lost === 0 && r.missedWelcomes === 0) return true;
      if ((await stack.pendingJobs()) + (await ledger.outboxPending(stack)) > 0) {
        idleSince = 0;
        return false;
      }
      idleSince ||= Date.now();
      return Date.now() - idleSince > 3000;
    },
    'the bot to finish the adds',
    { timeoutMs: 90_000, intervalMs: 500 },
  ).catch(() => undefined);
}

/** One line of the suite's table. */
export function tableRow(r: ScenarioRow) {
  return {
    scenario: r.scenario,
    run: r.run,
    sent: r.sent,
    acked: r.acked,
    lost: r.lost,
    'lost (customer/tag/follow-up)': `${r.lostDetail.customer}/${r.lostDetail.tag}/${r.lostDetail.followUp}`,
    duplicated: r.duplicated,
    'missed welcomes': r.missedWelcomes,
    'later adds complete': `${r.laterComplete}/${r.laterAcked}`,
    s: r.seconds,
    result: r.pass ? 'pass' : 'FAIL',
  };
}
