import { afterAll, describe, expect, it } from 'vitest';
import { Alerter } from '../src/infra/alerts.js';
import { SystemClock } from '../src/infra/clock.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { testConfig } from '../src/testing/env.js';
import { waitFor } from '../src/testing/wait.js';
import { offlineWecom } from '../src/testing/worker-deps.js';
import type { WorkerContext } from './context.js';
import { JOB_FAILURE_ALERT, noteJobFailure, startWorkers, type RunningWorkers } from './worker-runner.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const config = testConfig();
const producer = createRedis({ url: config.redis.url, role: 'producer', logger });
const workerConn = createRedis({ url: config.redis.url, role: 'worker', logger });
const queues = new Queues(producer, config.redis.queuePrefix);
let workers: RunningWorkers | undefined;

afterAll(async () => {
  await workers?.close();
  await queues.get(QueueName.maintenance).obliterate({ force: true });
  await queues.close();
  producer.disconnect();
  workerConn.disconnect();
});

describe('alerts on repeated job failures', () => {
  it('one alert through the alert channel once one kind of job fails often enough, then a cool-down', () => {
    let now = 0;
    const sent: string[] = [];
    const alerts = new Alerter({
      logger,
      minIntervalMs: 600_000,
      nowMs: () => now,
      sink: async (text) => void sent.push(text),
    });
    const fail = () => noteJobFailure(alerts, 'domain-events', 'customer.added', new Error('Command timed out'));
    const raised = Array.from({ length: JOB_FAILURE_ALERT.threshold * 2 }, () => fail());
    expect(raised.filter(Boolean)).toHaveLength(1);
    expect(raised.indexOf(true)).toBe(JOB_FAILURE_ALERT.threshold - 1);
    expect(sent[0]).toContain('job_failures domain-events/customer.added');
    expect(sent[0]).toContain('Command timed out');
    // Another kind of job has its own count.
    expect(noteJobFailure(alerts, 'scheduled', 'task.notify', new Error('x'))).toBe(false);
    now += 600_001; // after the cool-down, still failing: raised again
    expect(Array.from({ length: JOB_FAILURE_ALERT.threshold }, () => fail()).some(Boolean)).toBe(true);
  });

  it('a worker whose jobs keep failing raises the alert (not only warn lines)', async () => {
    const sent: string[] = [];
    const alerts = new Alerter({ logger, minIntervalMs: 600_000, sink: async (text) => void sent.push(text) });
    const ctx: WorkerContext = {
      config,
      logger,
      clock: new SystemClock(),
      redis: producer,
      queues,
      ...offlineWecom(config, logger),
    };
    workers = startWorkers(
      ctx,
      workerConn,
      [
        () => ({
          queue: QueueName.maintenance,
          concurrency: 4,
          handlers: {
            'probe.fail': async () => {
              throw new Error('always fails');
            },
          },
        }),
      ],
      { alerts, intervalMs: 600_000 },
    );
    await queues.get(QueueName.maintenance).addBulk(
      Array.from({ length: JOB_FAILURE_ALERT.threshold }, (_, i) => ({
        name: 'probe.fail',
        data: {},
        opts: { jobId: `fail-${i}`, attempts: 1 },
      })),
    );
    await waitFor(() => sent.length > 0, 'the job_failures alert', { timeoutMs: 20_000 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('maintenance/probe.fail');
  });
});
