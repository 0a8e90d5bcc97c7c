/**
 * `npm run bench:failover`: a Redis Cluster master dies under load (docs/scale.md, "Failover").
 *
 * A private Redis Cluster (three masters, three replicas), the dev MongoDB server and the WeCom
 * sandbox; the web, the worker and the welcome worker as real child processes with
 * REDIS_MODE=cluster. The sandbox plays delivery-channel adds (customer, welcome, tag 保客 and a
 * follow-up each) before, during and after the master that serves the `wecom-inbound` slot is
 * killed with SIGKILL; its replica is promoted. Prints acknowledged callbacks lost (target 0),
 * duplicates acted on (target 0), the longest time without an acknowledgement, the time until
 * every slot was served again, and whether every process reported ready again by itself.
 * Flags: `--n 60` adds before and after (a third each), `--rate 10` adds per second,
 * `--during-s 10` seconds of adds from the kill on. Exits 1 on a loss or a duplicate.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/infra/logger.js';
import { queueKeyName } from '../../src/queues/queue-names.js';
import { freePort } from '../../src/testing/ports.js';
import { getJson } from '../../src/testing/processes.js';
import { startPrivateRedisCluster } from '../../src/testing/redis-cluster.js';
import type { PrivateRedis } from '../../src/testing/redis-server.js';
import { waitFor } from '../../src/testing/wait.js';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { startSandbox } from '../wecom-sandbox/index.js';
import { demoScenario } from '../wecom-sandbox/world/demo-seed.js';
import { BotStack, type Backends } from './bot-stack.js';
import { Ledger, type LedgerResult } from './ledger.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '60' },
      rate: { type: 'string', default: '10' },
      'during-s': { type: 'string', default: '10' },
    },
  });
  const duringS = Number(values['during-s']);
  const third = Math.max(1, Math.round(Number(values.n) / 3));
  const perSecond = Number(values.rate);

  const cluster = await startPrivateRedisCluster();
  const [mongo, webPort] = await Promise.all([startDevMongoProcess(), freePort()]);
  const sandbox = await startSandbox({
    port: 0,
    seed: demoScenario(`http://127.0.0.1:${webPort}`),
    logger: createLogger({ level: 'silent', name: 'sandbox' }),
    delivery: { timeoutMs: 5000, retries: 3, retryDelayMs: 2000 },
  });
  const backends: Backends = {
    redis: { url: cluster.url } as PrivateRedis,
    mode: 'cluster',
    mongo,
    sandbox,
    webPort,
    async stop() {
      await sandbox.stop();
      await Promise.allSettled([mongo.stop(), cluster.stop()]);
    },
  };
  const stack = await BotStack.create(backends, 'failover');
  const ledger = new Ledger(sandbox, 'failover');
  let result: LedgerResult | undefined;
  try {
    await stack.startAll();
    await ledger.play(third, perSecond, 'before');

    const inboundKey = `${stack.name}:${queueKeyName('wecom-inbound', 'cluster')}:wait`;
    const victim = await cluster.masterOf(inboundKey);
    if (!victim) throw new Error('no master serves the wecom-inbound slot');
    // The load goes on for the whole failover: the node timeout (3 s) plus the election, and more.
    const during = ledger.play(Math.max(third, Math.round(perSecond * duringS)), perSecond, 'during');
    const killedAt = Date.now();
    await victim.kill();
    await waitFor(
      async () => {
        const master = await cluster.masterOf(inboundKey).catch(() => undefined);
        return Boolean(master && master !== victim && master.alive);
      },
      'the replica promoted',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const promotedMs = Date.now() - killedAt;
    await cluster.waitHealthy(60_000);
    await during;
    await ledger.play(third, perSecond, 'after');
    await ledger.delivered();

    // Every acknowledged add fully processed (or two minutes passed): the spool drains into the queues first.
    await waitFor(
      async () => (await ledger.check(stack)).lost === 0 && (await stack.pendingJobs()) === 0,
      'every acknowledged add processed',
      { timeoutMs: 120_000, intervalMs: 1000 },
    ).catch(() => undefined);
    result = await ledger.check(stack);

    const ready = async (url: string) => (await getJson(url, 2000).catch(() => ({ status: 0 }))).status === 200;
    const readyAgain = {
      web: await ready(`http://127.0.0.1:${webPort}/readyz`),
      worker: await ready(`http://127.0.0.1:${stack.healthPorts.get('worker') ?? 0}/readyz`),
      welcome: await ready(`http://127.0.0.1:${stack.healthPorts.get('welcome') ?? 0}/readyz`),
    };
    const ackTimes = ledger.entries
      .map((e) => e.ackedAtMs)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    let longestGapMs = 0;
    for (let i = 1; i < ackTimes.length; i++)
      longestGapMs = Math.max(longestGapMs, (ackTimes[i] ?? 0) - (ackTimes[i - 1] ?? 0));

    console.log(
      `\nRedis Cluster failover: master :${victim.port} (serving wecom-inbound) killed under ${perSecond} adds/s`,
    );
    console.table([
      {
        'adds sent': result.sent,
        acknowledged: result.acked,
        'acked lost': result.lost,
        'duplicates acted on': result.duplicated,
        'missed welcomes': result.missedWelcomes,
        'longest gap between acks (ms)': longestGapMs,
        'replica promoted after (ms)': promotedMs,
        'web ready again': readyAgain.web,
        'worker ready again': readyAgain.worker,
        'welcome worker ready again': readyAgain.welcome,
      },
    ]);
    if (result.lost > 0) console.log('lost detail', result.lostDetail);
  } finally {
    await ledger.close().catch(() => undefined);
    await stack.stop();
    await backends.stop();
  }
  process.exitCode = result && result.lost === 0 && result.duplicated === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
