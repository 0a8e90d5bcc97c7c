/**
 * Exactly once across instances (docs/scale.md, "Many instances"): two web processes behind a
 * round-robin balancer, three workers and a welcome worker, as real child processes, on the real
 * Redis Cluster (the cluster project's) with the inbound queue in three partitions, and one dev
 * MongoDB server. Delivery-channel adds go through both webs while one worker is killed
 * (SIGKILL): the one that ran the latest nightly reconciliation. Every acknowledged add must end
 * in one customer, one welcome, the 保客 tag and one follow-up. The follow-ups are then made due:
 * the next sweeps, on the surviving workers, fire each once, into one task and one card; the
 * advisors click every card through both webs, some clicks delivered twice, to each web: every
 * task is completed once, one `task.completed`, one card update. The hourly and daily jobs run
 * on a 30 s test period (`TEST_SCHEDULER_PATTERN`), so every periodic job (sweep, tick, rollups,
 * reconciliation, retention ...) is seen running once per period, before and after the kill.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSharedClockOffset } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis, pingRedis } from '../../src/infra/redis.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { testRedisUrl } from '../../src/testing/env.js';
import { freePort } from '../../src/testing/ports.js';
import type { PrivateRedis } from '../../src/testing/redis-server.js';
import { waitFor } from '../../src/testing/wait.js';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { deliver } from '../wecom-sandbox/driver/deliver.js';
import { startSandbox } from '../wecom-sandbox/index.js';
import { DEMO_CORP_ID, demoScenario } from '../wecom-sandbox/world/demo-seed.js';
import { BUTTON } from '../../src/domain/tasks/task-card.js';
import { BotStack, type Backends } from './bot-stack.js';
import { Ledger } from './ledger.js';

/** A round-robin HTTP balancer in front of the web processes (what a load balancer does). */
async function roundRobin(ports: number[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const port = ports[next++ % ports.length];
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const silent = createLogger({ level: 'silent', name: 'multi' });
/** The test period of every cron scheduler (hourly and daily jobs, rollups): 30 s (jobs/schedulers.ts). */
const TEST_PERIOD_MS = 30_000;
const TEST_PATTERN = '*/30 * * * * *';
let backends: Backends;
let balancer: Awaited<ReturnType<typeof roundRobin>>;
let webPorts: number[];

beforeAll(async () => {
  webPorts = [await freePort(), await freePort()];
  balancer = await roundRobin(webPorts);
  const mongo = await startDevMongoProcess();
  const sandbox = await startSandbox({
    port: 0,
    seed: demoScenario(balancer.url),
    logger: silent,
    delivery: { timeoutMs: 5000, retries: 3, retryDelayMs: 2000 },
  });
  backends = {
    redis: { url: testRedisUrl() } as PrivateRedis,
    mode: 'cluster',
    mongo,
    sandbox,
    webPort: webPorts[0] as number,
    async stop() {
      await sandbox.stop();
      await mongo.stop();
    },
  };
}, 120_000);

afterAll(async () => {
  await balancer?.close();
  await backends?.stop();
});

describe('many instances on a Redis Cluster', () => {
  it('acts once on every add, fires every follow-up once and keeps one run per period, while a worker dies', async () => {
    const stack = await BotStack.create(backends, `multi${Date.now().toString(36)}`, {
      INBOUND_PARTITIONS: '3',
      TEST_SCHEDULER_PATTERN: TEST_PATTERN,
    });
    const ledger = new Ledger(backends.sandbox, 'multi');
    const conn = await mongoose
      .createConnection(stack.config.mongo.uri, { serverSelectionTimeoutMS: 5000 })
      .asPromise();
    const redis = createRedis({ url: testRedisUrl(), mode: 'cluster', role: 'producer', logger: silent });
    try {
      await waitFor(() => pingRedis(redis), 'the cluster connection', { timeoutMs: 10_000 });
      await Promise.all([
        stack.start('web', {}, 'web1'),
        stack.start('web', { PORT: String(webPorts[1]) }, 'web2'),
        stack.start('worker', {}, 'worker1'),
        stack.start('worker', {}, 'worker2'),
        stack.start('worker', {}, 'worker3'),
        stack.start('welcome'),
      ]);

      // The worker that ran the latest nightly reconciliation (on its 30 s test period; BullMQ records
      // `processedBy`, jobs/worker-runner.ts) is the one killed, in the middle of the adds.
      const maintenance = stack.queue(QueueName.maintenance);
      const instanceByPid = new Map([...stack.procs].map(([instance, proc]) => [String(proc.child.pid), instance]));
      const ranBy = (job: { processedBy?: string }) => instanceByPid.get(job.processedBy?.split(':').at(-1) ?? '');
      const runsOf = async (scheduler: string) =>
        (await maintenance.getJobs(['completed'], 0, -1))
          .filter((job) => job.repeatJobKey === scheduler)
          .sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0));
      const sweeps = () => runsOf('schedule-sweep');
      const killed = await waitFor(
        async () => {
          const last = (await runsOf(`reconcile-${DEMO_CORP_ID}`)).at(-1);
          return last ? ranBy(last) : undefined;
        },
        'a reconciliation run by one of the workers',
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const survivors = ['worker1', 'worker2', 'worker3'].filter((w) => w !== killed);

      // Five adds per phase: five per advisor in all, so each gets cards, not a digest (docs/tasks.md).
      await ledger.play(5, 5, 'before');
      const during = ledger.play(5, 5, 'during');
      await stack.kill(killed);
      const killedAt = Date.now();
      await during;
      await ledger.play(5, 5, 'after');
      await ledger.delivered();
      // A job the killed worker held comes back once its lock expires (BullMQ's 30 s) and the stall check sees it.
      await waitFor(
        async () => (await ledger.check(stack)).lost === 0 && (await stack.pendingJobs()) === 0,
        'every acknowledged add processed',
        { timeoutMs: 120_000, intervalMs: 1000 },
      ).catch(() => undefined);
      const adds = await ledger.check(stack);
      console.table([{ sent: adds.sent, acked: adds.acked, lost: adds.lost, duplicated: adds.duplicated, killed }]);
      expect(adds.acked).toBe(adds.sent);
      expect(adds.lostDetail).toEqual({ customer: 0, tag: 0, followUp: 0 });
      expect(adds.duplicated).toBe(0);

      // Every periodic job: one scheduler and one next run, though three workers installed them.
      const schedulers = await maintenance.getJobSchedulers(0, -1);
      const ids = schedulers.map((s) => s.key);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining(['schedule-sweep', 'tasks-tick', `reconcile-${DEMO_CORP_ID}`]));
      const delayed = await maintenance.getJobs(['delayed'], 0, -1);
      for (const id of ids)
        expect(
          delayed.filter((job) => job.repeatJobKey === id),
          `next runs of ${id}`,
        ).toHaveLength(1);

      // The follow-ups become due; the minute sweep (one run per minute, whichever worker) fires each once.
      // The bot's clock moves to noon in the corp's time zone (Asia/Shanghai, UTC+8): cards go out in
      // working hours only. After the adds: callbacks are checked against the bot's clock. The
      // processes read the offset every second, long before the next minute's sweep.
      const shanghaiHour = (new Date().getUTCHours() + 8) % 24;
      await setSharedClockOffset(redis, stack.name, ((12 - shanghaiHour + 24) % 24) * 3_600_000, false);
      // The ledger's customers only: the reconciliation (every 30 s here) may also bring in the sandbox's seed customers.
      const customerIds = (
        await conn
          .collection('customers')
          .find(
            { corpId: DEMO_CORP_ID, externalUserId: { $in: ledger.entries.map((e) => e.externalUserId) } },
            { projection: { _id: 1 } },
          )
          .toArray()
      ).map((c) => c._id);
      const ours = { corpId: DEMO_CORP_ID, customerId: { $in: customerIds } };
      const schedules = conn.collection('schedules');
      const planned = await schedules.countDocuments({ ...ours, status: 'planned' });
      expect(planned).toBe(adds.acked);
      await schedules.updateMany({ ...ours, status: 'planned' }, { $set: { dueAt: new Date(Date.now() - 1000) } });
      const tasks = conn.collection('tasks');
      await waitFor(async () => (await tasks.countDocuments(ours)) >= planned, 'a task per schedule', {
        timeoutMs: 120_000,
        intervalMs: 1000,
      });
      const cards = () =>
        backends.sandbox.world.corp(DEMO_CORP_ID)?.messages.filter((m) => m.msgtype === 'template_card') ?? [];
      // Each task is notified once: by its card (or, had an advisor had more than five, one digest).
      await waitFor(
        async () => (await tasks.countDocuments({ ...ours, notifyPending: true })) === 0,
        'every task notified',
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const taskDocs = await tasks.find(ours, { projection: { scheduleId: 1 } }).toArray();
      console.table([{ schedules: planned, tasks: taskDocs.length, cards: cards().length }]);
      expect(taskDocs).toHaveLength(planned);
      expect(new Set(taskDocs.map((t) => String(t.scheduleId))).size).toBe(planned);
      expect(await schedules.countDocuments({ ...ours, status: { $ne: 'fired' } })).toBe(0);
      expect(cards()).toHaveLength(planned);
      expect(new Set(cards().map((m) => m.taskId)).size).toBe(planned);

      // Card clicks through both webs: the advisor taps 已联系 on every card (the balancer alternates
      // the webs); every third click is also delivered again, byte for byte, to each web at once (a
      // WeCom retry meeting two instances). Each task must be completed once. The clock goes back to
      // now first: a callback's timestamp is checked against the bot's clock.
      await setSharedClockOffset(redis, stack.name, 0, false);
      const doubled: string[] = [];
      await Promise.all(
        cards().map(async (card, i) => {
          const click = await backends.sandbox.driver.clickCardButton({
            corpId: DEMO_CORP_ID,
            userid: card.touser[0] ?? '',
            taskId: card.taskId ?? '',
            eventKey: BUTTON.contacted,
          });
          expect(click.delivery?.ok).toBe(true);
          const envelope = click.delivery?.envelope;
          if (i % 3 !== 0 || !envelope) return;
          doubled.push(card.taskId ?? '');
          const path = new URL(click.delivery?.url ?? '').pathname;
          const again = await Promise.all(
            webPorts.map((port) =>
              // WeCom's own policy: 5 s per attempt, then up to three more attempts (docs/wecom.md §1.6).
              deliver(`http://127.0.0.1:${port}${path}`, envelope, {
                timeoutMs: 5000,
                retries: 3,
                retryDelayMs: 1000,
                fetch: globalThis.fetch,
              }),
            ),
          );
          for (const d of again) expect(d.ok, JSON.stringify(d.attempts)).toBe(true);
        }),
      );
      await waitFor(
        async () => (await tasks.countDocuments({ ...ours, status: 'done' })) === planned,
        'every clicked task completed',
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const clicked = await tasks.find(ours, { projection: { status: 1, outcome: 1, history: 1 } }).toArray();
      for (const task of clicked) {
        expect(task, String(task._id)).toMatchObject({ status: 'done', outcome: 'contacted' });
        const history = (task.history ?? []) as Array<{ action: string }>;
        expect(
          history.filter((h) => h.action === 'completed'),
          String(task._id),
        ).toHaveLength(1);
      }
      const taskIds = clicked.map((t) => String(t._id));
      await waitFor(
        async () =>
          (await conn.collection('domain_events').countDocuments({
            corpId: DEMO_CORP_ID,
            type: 'task.completed',
            taskId: { $in: taskIds },
            status: 'processed',
          })) === planned,
        'every task.completed processed',
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch(() => undefined);
      const completedEvents = await conn
        .collection('domain_events')
        .find({ corpId: DEMO_CORP_ID, type: 'task.completed', taskId: { $in: taskIds } }, { projection: { taskId: 1 } })
        .toArray();
      expect(completedEvents).toHaveLength(planned);
      expect(new Set(completedEvents.map((e) => String(e.taskId))).size).toBe(planned);
      // One card update per card (the response code of a click is good for one update).
      const updates = backends.sandbox.world.corp(DEMO_CORP_ID)?.cardUpdates ?? [];
      const cardTaskIds = new Set(cards().map((m) => m.taskId));
      const ourUpdates = updates.filter((u) => cardTaskIds.has(u.taskId));
      expect(ourUpdates).toHaveLength(planned);
      expect(new Set(ourUpdates.map((u) => u.taskId)).size).toBe(planned);
      console.table([
        {
          clicks: planned,
          'delivered to both webs again': doubled.length,
          completed: clicked.length,
          'task.completed': completedEvents.length,
          'card updates': ourUpdates.length,
        },
      ]);

      // One sweep per minute cluster-wide, before and after the worker that ran it died; later ones on the survivors.
      const allSweeps = await sweeps();
      const periods = allSweeps.map((job) => Number(/:(\d+)$/.exec(String(job.id))?.[1])).sort((a, b) => a - b);
      expect(new Set(periods).size).toBe(periods.length);
      for (let i = 1; i < periods.length; i++)
        expect(((periods[i] ?? 0) - (periods[i - 1] ?? 0)) % 60_000, `sweep periods ${periods.join(', ')}`).toBe(0);
      const afterKill = allSweeps.filter((job) => (job.processedOn ?? 0) > killedAt);
      expect(afterKill.length).toBeGreaterThan(0);
      for (const job of afterKill) expect(survivors).toContain(ranBy(job));
      console.table([
        { sweeps: periods.length, 'after the kill': afterKill.length, killed, survivors: survivors.join(' ') },
      ]);

      // The hourly and daily jobs and the rollups, on their 30 s test period: one completed run per
      // period with no period missing (a run the killed worker held comes back once its lock
      // expired), runs after the kill on the survivors only, none failed.
      const periodic = [
        'kpis-tick',
        'corp-schedulers',
        'channels-reconcile',
        `reconcile-${DEMO_CORP_ID}`,
        `retention-${DEMO_CORP_ID}`,
        `groups-reconcile-${DEMO_CORP_ID}`,
        `outcomes-daily-${DEMO_CORP_ID}`,
      ];
      const periodsOf = async (id: string) =>
        (await runsOf(id)).map((job) => Number(/:(\d+)$/.exec(String(job.id))?.[1])).sort((a, b) => a - b);
      const gapless = (ps: number[]) => ps.every((p, i) => i === 0 || p - (ps[i - 1] ?? 0) === TEST_PERIOD_MS);
      await waitFor(
        async () => {
          // Three periods each, one of them after the kill, whatever the machine's speed so far.
          for (const id of periodic) {
            const ps = await periodsOf(id);
            const after = (await runsOf(id)).filter((job) => (job.processedOn ?? 0) > killedAt);
            if (!gapless(ps) || ps.length < 3 || after.length === 0) return false;
          }
          return true;
        },
        'three periods of every periodic job completed',
        { timeoutMs: 150_000, intervalMs: 1000 },
      ).catch(() => undefined);
      const failed = await maintenance.getJobs(['failed'], 0, -1);
      const rows = [];
      for (const id of periodic) {
        const runs = await runsOf(id);
        const ps = await periodsOf(id);
        const after = runs.filter((job) => (job.processedOn ?? 0) > killedAt);
        rows.push({
          job: id,
          runs: ps.length,
          'after the kill': after.length,
          'by the killed worker before': runs.filter((job) => ranBy(job) === killed).length,
          skipped: runs.filter((job) => (job.returnvalue as { skipped?: boolean } | null)?.skipped).length,
        });
        expect.soft(new Set(ps).size, `${id} periods ${ps.join(', ')}`).toBe(ps.length);
        expect.soft(gapless(ps), `${id} periods ${ps.join(', ')}`).toBe(true);
        const others = (await maintenance.getJobs(['failed', 'active', 'delayed', 'waiting', 'prioritized'], 0, -1))
          .filter((job) => job.repeatJobKey === id)
          .map((job) => `${job.id} ${job.failedReason ?? ''} ${job.processedOn ?? ''}`);
        expect.soft(ps.length, `${id}; not completed: ${others.join(' | ')}`).toBeGreaterThanOrEqual(3);
        expect.soft(after.length, id).toBeGreaterThan(0);
        for (const job of after) expect.soft(survivors, id).toContain(ranBy(job));
        expect
          .soft(
            failed.filter((job) => job.repeatJobKey === id).map((job) => job.failedReason),
            id,
          )
          .toEqual([]);
      }
      console.table(rows);
      // The reconciliation whose worker was killed ran, and its successors ran on the survivors.
      expect((await runsOf(`reconcile-${DEMO_CORP_ID}`)).some((job) => ranBy(job) === killed)).toBe(true);
      // The rollups' effect: today's cockpit rows of the corp.
      expect(await conn.collection('kpi_daily').countDocuments({ corpId: DEMO_CORP_ID })).toBeGreaterThan(0);
    } finally {
      await ledger.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
      redis.disconnect();
      await stack.stop();
    }
  }, 600_000);
});
