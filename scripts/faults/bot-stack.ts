/**
 * The bot as it runs in production, for fault injection (docs/reliability.md, "Fault-injection
 * suite"): the web, the worker (every queue but the welcome lane) and the welcome worker as real
 * child processes from source (as `npm run dev` runs them), a private redis-server (AOF
 * `everysec`, noeviction), the dev MongoDB server in a process of its own with a data file (so it
 * can be frozen, and restarted with its data)
 * and the WeCom sandbox in this process, which delivers add callbacks encrypted and signed with
 * the production callback code (src/wecom/callback-crypto.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import mongoose from 'mongoose';
import { loadConfig, type AppConfig } from '../../config/index.js';
import { CorpService } from '../../src/domain/corps/corp.service.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { partitionNames, QueueName, queueKeyName, type QueueHandleName } from '../../src/queues/queue-names.js';
import { freePort } from '../../src/testing/ports.js';
import { getJson, spawnNode, type RunningProcess } from '../../src/testing/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/testing/redis-server.js';
import { waitFor } from '../../src/testing/wait.js';
import { startDevMongoProcess, type DevMongoProcess } from '../dev-mongo/child-process.js';
import { demoCorpInput } from '../lib/demo-corp.js';
import { startSandbox, type RunningSandbox } from '../wecom-sandbox/index.js';
import { demoScenario } from '../wecom-sandbox/world/demo-seed.js';

export type Role = 'web' | 'worker' | 'welcome';

/** What each role consumes: the welcome lane has a worker of its own, as README "Running in production" recommends. */
const ROLE_ENV: Record<Role, Record<string, string>> = {
  web: {},
  worker: { WORKER_QUEUES: 'wecom-inbound,domain-events,scheduled,maintenance' },
  welcome: { WORKER_QUEUES: 'wecom-welcome' },
};

/** The shared back ends; one per suite run. */
export interface Backends {
  /** One redis-server; for a Redis Cluster (`mode: 'cluster'`) only `url` (the seed nodes) is used. */
  redis: PrivateRedis;
  mode?: 'standalone' | 'cluster';
  mongo: DevMongoProcess;
  sandbox: RunningSandbox;
  /** Where the sandbox delivers callbacks (the web's port, fixed across web restarts). */
  webPort: number;
  stop(): Promise<void>;
}

export async function startBackends(): Promise<Backends> {
  // The dev MongoDB server keeps its data in a file of its own, so the restart scenario keeps it.
  const mongoDir = mkdtempSync(join(tmpdir(), 'scrm-faults-mongo-'));
  const [redis, mongo, webPort] = await Promise.all([
    startPrivateRedis({ appendOnly: true }),
    startDevMongoProcess({ dataFile: join(mongoDir, 'dev-mongo.bson') }),
    freePort(),
  ]);
  // Delivery as WeCom does it (5 s timeout, 3 retries), spaced so a restarted web gets the retries.
  const sandbox = await startSandbox({
    port: 0,
    seed: demoScenario(`http://127.0.0.1:${webPort}`),
    logger: createLogger({ level: 'silent', name: 'sandbox' }),
    delivery: { timeoutMs: 5000, retries: 3, retryDelayMs: 2000 },
  });
  return {
    redis,
    mongo,
    sandbox,
    webPort,
    async stop() {
      mongo.process.child.kill('SIGCONT');
      redis.thaw();
      await sandbox.stop();
      await Promise.allSettled([mongo.stop(), redis.stop()]);
      rmSync(mongoDir, { recursive: true, force: true });
    },
  };
}

/** The follow-up every delivery add gets (the rule's action index 2). */
export const FOLLOW_UP_TITLE = '交车关怀';
export const OWNER_TAG = { group: '客户阶段', name: '保客' } as const;

/** Where a stack's processes run from: another checkout (a benchmark's baseline), extra preloaded modules. */
export interface StackSource {
  /** A source tree with the same layout (default: the current directory). */
  dir?: string;
  /** Absolute paths of modules each process imports first (`node --import`). */
  preload?: string[];
}

/**
 * One bot (its own queue prefix, database and spool) on the shared back ends, seeded with the
 * demo corp and a delivery rule: welcome, tag 保客 and a follow-up for every `delivery_*` add.
 */
export class BotStack {
  /** Running processes by instance name (the role's name unless `start` was given another). */
  readonly procs = new Map<string, RunningProcess>();
  readonly config: AppConfig;
  readonly env: Record<string, string>;
  readonly healthPorts = new Map<string, number>();
  private readonly spoolDir: string;
  private queues = new Map<QueueHandleName, Queue>();

  private constructor(
    readonly backends: Backends,
    readonly name: string,
    env: Record<string, string>,
    spoolDir: string,
    private readonly source: StackSource,
  ) {
    this.env = env;
    this.config = loadConfig(env);
    this.spoolDir = spoolDir;
  }

  static async create(
    backends: Backends,
    name: string,
    extraEnv: Record<string, string> = {},
    source: StackSource = {},
  ): Promise<BotStack> {
    const spoolDir = mkdtempSync(join(tmpdir(), 'scrm-faults-spool-'));
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(backends.webPort),
      REDIS_URL: backends.redis.url,
      REDIS_MODE: backends.mode ?? 'standalone',
      QUEUE_PREFIX: name,
      MONGODB_URI: `${backends.mongo.uri}/${name}`,
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '2000',
      WECOM_API_BASE: backends.sandbox.url,
      DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
      SPOOL_PATH: spoolDir,
      SHUTDOWN_TIMEOUT_MS: '8000',
      ...extraEnv,
    };
    const stack = new BotStack(backends, name, env, spoolDir, source);
    await stack.seed();
    return stack;
  }

  /** Corp and rule through the services the API uses (fake credentials from the sandbox's demo corp). */
  private async seed(): Promise<void> {
    // The services use the default connection's models; it is bound for the seed only.
    await mongoose.connect(this.config.mongo.uri);
    try {
      await new CorpService({
        cipher: new DataCipher(this.config.dataKeys.keys, this.config.dataKeys.activeId),
        defaultTimezone: 'Asia/Shanghai',
        prefix: this.name,
      }).upsert(demoCorpInput());
      await new RuleService(() => new Date()).create(
        { role: 'admin', corps: '*', tokenId: 'faults' },
        ruleCreateSchema.parse({
          name: '交车欢迎',
          scope: demoCorpInput().corpId,
          enabled: true,
          priority: 100,
          trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
          actions: [
            { type: 'welcome', text: '恭喜提车！' },
            { type: 'tag', add: [OWNER_TAG] },
            { type: 'follow_up', title: FOLLOW_UP_TITLE, dueIn: '1d', sla: '48h' },
          ],
        }),
      );
    } finally {
      await mongoose.disconnect();
    }
  }

  /**
   * Starts a role (a fresh health port for workers, so their /metrics can be read). Several
   * instances of a role run side by side under names of their own (`instance`); a second web
   * needs its own `PORT` in `extraEnv`.
   */
  async start(
    role: Role,
    extraEnv: Record<string, string> = {},
    instance: string = role,
    // A start compiles the sources (tsx); on a machine shared with other test runs it took over 150 s.
    readyTimeoutMs = 240_000,
  ): Promise<RunningProcess> {
    const healthPort = role === 'web' ? 0 : await freePort();
    if (role !== 'web') this.healthPorts.set(instance, healthPort);
    // BENCH_CPU_PROF_DIR: a V8 CPU profile of each process, written when it exits (profiling the benchmarks).
    const profile = process.env.BENCH_CPU_PROF_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}/${instance}`]
      : [];
    const preload = (this.source.preload ?? []).flatMap((file) => ['--import', file]);
    const proc = spawnNode(
      [...profile, '--import', 'tsx', ...preload, role === 'web' ? 'src/main.ts' : 'jobs/worker.ts'],
      { ...this.env, ...ROLE_ENV[role], WORKER_HEALTH_PORT: String(healthPort), ...extraEnv },
      this.source.dir,
    );
    this.procs.set(instance, proc);
    const webPort = extraEnv.PORT ?? String(this.backends.webPort);
    const url = role === 'web' ? `http://127.0.0.1:${webPort}/readyz` : `http://127.0.0.1:${healthPort}/readyz`;
    // Ready, and for a worker its BullMQ workers running (they start once MongoDB answered and the corps loaded).
    const ready = waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`${role} exited: ${proc.output().slice(-800)}`);
        const res = await getJson(url, 1000);
        const workers = (res.body as { dependencies?: { workers?: { count?: number } } } | undefined)?.dependencies
          ?.workers;
        return res.status === 200 && (role === 'web' || (workers?.count ?? 0) > 0);
      },
      `${role} ready`,
      { timeoutMs: readyTimeoutMs, intervalMs: 100 },
    );
    // A start that never gets ready says why: the process's last output lines.
    await ready.catch((err: Error) => {
      throw new Error(`${err.message}; ${instance} output: ${proc.output().slice(-1500)}`);
    });
    return proc;
  }

  async startAll(): Promise<void> {
    await Promise.all([this.start('web'), this.start('worker'), this.start('welcome')]);
  }

  /** SIGKILL: no shutdown at all (a role, or an instance started under its own name). */
  async kill(instance: string): Promise<void> {
    await this.procs.get(instance)?.stop('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `graceMs` (an orchestrator's grace period). */
  async terminate(instance: string, graceMs = 15_000): Promise<void> {
    await this.procs.get(instance)?.stop('SIGTERM', graceMs);
  }

  queue(name: QueueHandleName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      const { url, mode } = this.config.redis;
      const connection =
        mode === 'cluster'
          ? (createRedis({
              url,
              mode,
              role: 'worker',
              logger: createLogger({ level: 'silent', name: 'faults' }),
            }) as unknown as ConnectionOptions)
          : { url, maxRetriesPerRequest: null };
      q = new Queue(queueKeyName(name, mode), { connection, prefix: this.name });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * Jobs still to run in the queues that carry an add's work, retries waiting out their backoff
   * included (`scheduled` and `maintenance` always hold the next tick of their schedulers).
   */
  async pendingJobs(): Promise<number> {
    let total = 0;
    const names = [QueueName.wecomInbound, QueueName.wecomWelcome, QueueName.domainEvents].flatMap((name) =>
      partitionNames(name, this.config.inboundPartitions),
    );
    for (const name of names) {
      const c = await this.queue(name).getJobCounts('waiting', 'active', 'prioritized', 'delayed');
      total += Object.values(c).reduce((a, b) => a + b, 0);
    }
    return total;
  }

  /** A worker's Prometheus text. */
  async metrics(role: 'worker' | 'welcome'): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.healthPorts.get(role) ?? 0}/metrics`, {
      signal: AbortSignal.timeout(3000),
    });
    return res.text();
  }

  /** Tears the bot down (SIGKILL: its queues and database are not used again). */
  async stop(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop('SIGKILL')));
    for (const q of this.queues.values()) await q.close().catch(() => undefined);
    rmSync(this.spoolDir, { recursive: true, force: true });
  }
}
