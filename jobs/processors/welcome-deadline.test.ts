/**
 * The welcome lane's deadline with a crashed worker (docs/reliability.md, "Welcome deadline"):
 * a real welcome worker process is killed with SIGKILL while it holds welcome jobs (its
 * send_welcome_msg calls hang in the WeCom sandbox); a second worker process picks them up once
 * their short locks expire and sends them inside WeCom's 20 s window (the sandbox refuses a code
 * older than 20 s with 41050), while the jobs whose code can no longer be valid are skipped and
 * counted in `scrm_welcomes_missed_total`. Regression: with BullMQ's default 30 s lock these
 * welcomes came back after their codes had expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueWelcome } from '../../src/queues/welcome.producer.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/infra/logger.js';
import { waitFor } from '../../src/testing/wait.js';
import { BotStack, startBackends, type Backends } from '../../scripts/faults/bot-stack.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { WELCOME_WINDOW_MS } from './welcome-deadline.js';

let backends: Backends;
let stack: BotStack;

beforeAll(async () => {
  backends = await startBackends();
  stack = await BotStack.create(backends, `welcome-deadline-${process.pid}`);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await backends?.stop();
});

describe('welcome lane deadline', () => {
  it("retries a killed worker's welcomes within the window, and skips and counts those whose code has expired", async () => {
    const { sandbox } = backends;
    // The first welcome worker waits as long as WeCom takes: its calls hang until it is killed.
    await stack.start('web');
    await stack.start('welcome', { WECOM_TIMEOUT_MS: '60000' });
    const fresh = 4;
    const old = 3;
    sandbox.context.faults.add({ endpoint: 'externalcontact/send_welcome_msg', kind: 'hang', count: fresh + old });

    // Fresh adds through the production path: sandbox → signed callback → web → welcome lane.
    const adds = await Promise.all(
      Array.from({ length: fresh }, (_, i) =>
        sandbox.driver.addCustomer({
          corpId: DEMO_CORP_ID,
          userid: ['zhangwei', 'lina'][i % 2] as string,
          state: 'delivery_deadline',
          customer: { external_userid: `wmDeadlineFresh${String(i).padStart(17, '0')}`, name: `测试${i}` },
        }),
      ),
    );
    expect(adds.every((a) => a.delivery?.ok)).toBe(true);
    // Adds whose event is already 14 s old: the first worker still tries them (their code has 6 s
    // left), but after the crash no worker can get them to WeCom within 20 s.
    const producer = createRedis({
      url: backends.redis.url,
      role: 'producer',
      logger: createLogger({ level: 'silent', name: 't' }),
      connectionName: 'deadline-test',
    });
    const queues = new Queues(producer, stack.name);
    const oldEventTime = Math.floor((Date.now() - 14_000) / 1000);
    const oldCodes = Array.from({ length: old }, (_, i) => `wc-deadline-old-${i}`);
    for (const [i, code] of oldCodes.entries()) {
      await enqueueWelcome(queues, {
        corpId: DEMO_CORP_ID,
        userid: 'liuyang',
        externalUserId: `wmDeadlineOld${String(i).padStart(19, '0')}`,
        state: 'delivery_deadline',
        welcomeCode: code,
        receivedAt: oldEventTime * 1000,
        eventTime: oldEventTime,
      });
    }

    const welcomeQueue = stack.queue(QueueName.wecomWelcome);
    await waitFor(
      async () => (await welcomeQueue.getActiveCount()) === fresh + old,
      'the first worker holding every welcome job',
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    await waitFor(
      () => sandbox.context.faults.list().length === 0,
      'every send_welcome_msg call hanging in the sandbox',
      { timeoutMs: 10_000, intervalMs: 50 },
    );

    await stack.kill('welcome');
    const killedAt = Date.now();
    sandbox.context.faults.clear();
    await stack.start('welcome');

    const freshIds = adds.map((a) => a.externalUserId);
    const welcomes = () =>
      (sandbox.world.corp(DEMO_CORP_ID)?.welcomes ?? []).filter((w) => freshIds.includes(w.external_userid));
    await waitFor(() => welcomes().length === fresh, "the killed worker's fresh welcomes sent by the second worker", {
      timeoutMs: WELCOME_WINDOW_MS,
      intervalMs: 100,
    });
    const codes = sandbox.world.corp(DEMO_CORP_ID)?.welcomeCodes ?? [];
    for (const w of welcomes()) {
      const issued = codes.find((c) => c.external_userid === w.external_userid)?.issuedAtMs ?? 0;
      expect(w.atMs - issued).toBeLessThan(WELCOME_WINDOW_MS); // WeCom's business deadline
      expect(w.atMs).toBeGreaterThan(killedAt);
    }
    // No code reached WeCom expired, and the old ones were not tried again after the crash.
    const calls = sandbox.context.calls.list({ endpoint: 'externalcontact/send_welcome_msg' });
    expect(calls.filter((c) => c.errcode === 41050)).toEqual([]);
    // A call that hung belongs to the killed worker: the sandbox logs it when its connection closes,
    // which can be a moment after `killedAt`; only calls that did not hang are the second worker's.
    const retried = calls.filter(
      (c) =>
        c.fault !== 'hang' &&
        c.atMs > killedAt &&
        oldCodes.includes((c.body as { welcome_code?: string }).welcome_code ?? ''),
    );
    expect(retried).toEqual([]);

    const missed = await waitFor(
      async () => {
        const text = await stack.metrics('welcome');
        const match = /scrm_welcomes_missed_total\{corp="[^"]+",reason="expired"\} (\d+)/.exec(text);
        return match && Number(match[1]) === old ? Number(match[1]) : undefined;
      },
      'the expired welcomes counted',
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(missed).toBe(old);
    expect(stack.procs.get('welcome')?.output()).toContain('"kind":"welcome_missed"'); // the operator alert (3 in 10 min)
    await queues.close();
    producer.disconnect();
  }, 120_000);
});
