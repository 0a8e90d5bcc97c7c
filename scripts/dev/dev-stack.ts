import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import pretty from 'pino-pretty';
import { DEV_ENV_FILE_NAME } from '../../config/env-files.js';
import { loadConfig } from '../../config/index.js';
import { refreshDirectory } from '../../src/domain/customers/advisor-directory.service.js';
import { CorpService } from '../../src/domain/corps/corp.service.js';
import { WebhookSecrets } from '../../src/domain/webhooks/webhook-secret.service.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import type { Logger } from '../../src/infra/logger.js';
import { setSharedClockOffset, SystemClock } from '../../src/infra/clock.js';
import { createRedis, waitForRedis } from '../../src/infra/redis.js';
import { startDevMongo, type DevMongoServer } from '../dev-mongo/index.js';
import { demoCorpInput } from '../lib/demo-corp.js';
import { createWecomClient } from '../../src/wecom/client.js';
import { startSandbox, type RunningSandbox } from '../wecom-sandbox/index.js';
import { demoScenario } from '../wecom-sandbox/world/demo-seed.js';
import { loadOrCreateDevSecrets } from './dev-secrets.js';
import { assertPortsFree, ensureRedis } from './dev-services.js';
import { restoreSandboxWorld, saveSandboxWorld } from './sandbox-state.js';
import { seedExampleRules } from './example-rules.js';

export interface DevStackOptions {
  port: number;
  sandboxPort: number;
  /** Where development secrets, the Redis AOF, the MongoDB snapshot, the sandbox world and the spool live. */
  dataDir: string;
  redisUrl: string;
  /** A real MongoDB; otherwise the dev server runs here (on `mongoPort`, 0 = any). */
  mongoUri?: string;
  mongoPort: number;
  /** Keep the dev MongoDB server's data and the sandbox's world across restarts. */
  persistMongo: boolean;
  /** Start from nothing: remove the data dir's state (and the prefix's keys in a Redis not started here). */
  fresh?: boolean;
  logger: Logger;
  /** Pretty-print the web and worker logs to stdout (a person watching) or drop them (tests). */
  showProcessLogs: boolean;
  logLevel?: string;
}

export interface DevStack {
  /** Where the processes reach the web process (127.0.0.1). */
  botUrl: string;
  /** Where a person opens it: the README's host, also the console's sign-in return address. */
  publicUrl: string;
  sandbox: RunningSandbox;
  adminToken: string;
  mongoUri: string;
  redisUrl: string;
  startedRedis: boolean;
  /** Whether the sandbox world and the bot's data were carried over from a previous run. */
  resumed: boolean;
  rules: { created: number; existing: number };
  /** The demo corp's DMS webhook secret, new on every start (the DMS simulator and npm run demo sign with it). */
  dmsSecret: string;
  children: ChildProcess[];
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');
const QUEUE_PREFIX = 'scrm';

/**
 * Everything the bot needs on one machine (docs/architecture.md §8), as `npm run dev` and the demo test start it:
 * Redis, the dev MongoDB server (or a real one), the WeCom sandbox with the demo dealer, the demo
 * corp and example campaigns registered, and the web and worker processes from source. When
 * anything fails to start, whatever did start is stopped again before the error is thrown.
 */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const undo: Array<() => Promise<void> | void> = [];
  const rollback = async () => {
    for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    return await start(opts, undo);
  } catch (err) {
    await rollback();
    throw err;
  }
}

async function start(opts: DevStackOptions, undo: Array<() => Promise<void> | void>): Promise<DevStack> {
  await assertPortsFree([
    { port: opts.port, variable: 'PORT', what: 'the web process: callbacks, API and console' },
    { port: opts.sandboxPort, variable: 'SANDBOX_PORT', what: 'the WeCom sandbox', host: '127.0.0.1' },
    ...(opts.mongoUri
      ? []
      : [{ port: opts.mongoPort, variable: 'DEV_MONGO_PORT', what: 'the dev MongoDB server', host: '127.0.0.1' }]),
  ]);
  const files = {
    mongo: join(opts.dataDir, 'mongo.snapshot'),
    world: join(opts.dataDir, 'sandbox-world.json'),
    devEnv: join(opts.dataDir, DEV_ENV_FILE_NAME),
  };
  if (opts.fresh) {
    for (const name of ['mongo.snapshot', 'sandbox-world.json', 'redis', 'spool', DEV_ENV_FILE_NAME])
      rmSync(join(opts.dataDir, name), { recursive: true, force: true });
  } else if (opts.persistMongo && !opts.mongoUri && existsSync(files.mongo) !== existsSync(files.world)) {
    // One without the other cannot agree on ids: both start fresh together.
    opts.logger.warn("the bot's data and the sandbox world were not saved together; both start fresh");
    rmSync(files.mongo, { force: true });
    rmSync(files.world, { force: true });
  }
  const secrets = loadOrCreateDevSecrets(join(opts.dataDir, 'dev-secrets.json'));
  const redis = await ensureRedis(opts.redisUrl, join(opts.dataDir, 'redis'));
  if (redis.child) undo.push(() => stopChild(redis.child as ChildProcess));
  const admin = createRedis({ url: redis.url, role: 'producer', logger: opts.logger });
  await waitForRedis(admin, redis.url, 5000);
  if (opts.fresh && !redis.child) await deleteKeys(admin, `${QUEUE_PREFIX}:*`);
  // A fresh start runs on real time again (npm run demo moves the shared clock forward).
  await setSharedClockOffset(admin, QUEUE_PREFIX, 0, false);
  admin.disconnect();
  let mongo: DevMongoServer | undefined;
  let mongoUri = opts.mongoUri;
  if (!mongoUri) {
    const started = await startDevMongo({
      port: opts.mongoPort,
      dataFile: opts.persistMongo ? files.mongo : undefined,
      logger: opts.logger,
    });
    mongo = started;
    undo.push(() => started.stop());
    mongoUri = `${started.uri}/scrm`;
  }
  const botUrl = `http://127.0.0.1:${opts.port}`;
  const publicUrl = `http://localhost:${opts.port}`;
  const sandbox = await startSandbox({
    port: opts.sandboxPort,
    redisUrl: redis.url,
    keyPrefix: QUEUE_PREFIX,
    logger: opts.logger.child({ name: 'wecom-sandbox' }),
  });
  undo.push(() => sandbox.stop());
  const resumed = opts.persistMongo && restoreSandboxWorld(sandbox.world, files.world, botUrl);
  if (!resumed) sandbox.world.seed(demoScenario(botUrl));
  const persistWorld = () => {
    if (opts.persistMongo) saveSandboxWorld(sandbox.world, files.world);
  };
  persistWorld();
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: opts.logLevel ?? 'info',
    PORT: String(opts.port),
    WORKER_HEALTH_PORT: '0',
    QUEUE_PREFIX,
    REDIS_URL: redis.url,
    MONGODB_URI: mongoUri,
    WECOM_API_BASE: sandbox.url,
    WECOM_OAUTH_BASE: sandbox.url,
    WECOM_QR_LOGIN_BASE: sandbox.url,
    PUBLIC_BASE_URL: publicUrl,
    SPOOL_PATH: join(opts.dataDir, 'spool'),
    ...secrets,
  };
  const config = loadConfig(env);

  await mongoose.connect(config.mongo.uri, { serverSelectionTimeoutMS: 5000 });
  undo.push(() => mongoose.disconnect());
  const publisher = createRedis({ url: redis.url, role: 'producer', logger: opts.logger });
  undo.push(() => publisher.disconnect());
  const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
  await new CorpService({
    cipher,
    defaultTimezone: config.defaultTimezone,
    redis: publisher,
    prefix: config.redis.queuePrefix,
  }).upsert(demoCorpInput());
  const rules = await seedExampleRules(() => new Date());
  // The member directory (advisors, departments, leaders) from the sandbox now, as the nightly
  // reconciliation would: sign-in then knows 王强 leads 销售部 from the first minute.
  const corp = demoCorpInput();
  const api = createWecomClient({
    apiBase: config.wecom.apiBase,
    redis: publisher,
    logger: opts.logger,
    clock: new SystemClock(),
    timeoutMs: config.wecom.timeoutMs,
    keyPrefix: config.redis.queuePrefix,
  }).forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: Number(corp.agentId) });
  await refreshDirectory({ corpId: corp.corpId, api, clock: new SystemClock(), logger: opts.logger });
  // The simulated DMS's webhook secret (docs/outcomes.md "Webhook secrets"): a new one each start,
  // the previous one ends now; written to .data/dev.env for npm run demo and dms:simulate.
  const dms = await new WebhookSecrets(cipher, () => new Date()).rotate(corp.corpId, 'dms', 0);
  await mongoose.disconnect();
  publisher.disconnect();

  const children: ChildProcess[] = [];
  undo.push(() => Promise.all(children.map(stopChild)).then(() => undefined));
  children.push(
    runRole('web', 'src/main.ts', env, opts.showProcessLogs),
    runRole('worker', 'jobs/worker.ts', env, opts.showProcessLogs),
  );
  await waitForReady(`${botUrl}/readyz`, children);
  const { LOG_LEVEL: _level, NODE_ENV: _env, ...shared } = env;
  writeFileSync(
    files.devEnv,
    [
      '# Written by npm run dev for the stack it runs, removed when it stops. In development, npm start',
      '# and every CLI (npm run token, sync, import:vehicles, demo …) read unset variables from here.',
      ...Object.entries({ ...shared, DMS_WEBHOOK_SECRET: dms.secret }).map(([k, v]) => `${k}=${v}`),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const worldTimer = setInterval(persistWorld, 60_000);
  worldTimer.unref();
  let stopping: Promise<void> | undefined;
  return {
    botUrl,
    publicUrl,
    sandbox,
    adminToken: secrets.BOOTSTRAP_API_TOKEN,
    mongoUri,
    redisUrl: redis.url,
    startedRedis: Boolean(redis.child),
    resumed,
    rules,
    dmsSecret: dms.secret,
    children,
    stop() {
      // In order: the web and the worker finish their work, then the sandbox's world and the
      // bot's data are saved together, then Redis (when started here) stops last.
      stopping ??= (async () => {
        clearInterval(worldTimer);
        rmSync(files.devEnv, { force: true });
        await Promise.all(children.map(stopChild));
        persistWorld();
        await sandbox.stop();
        await mongo?.stop();
        if (redis.child) await stopChild(redis.child);
      })();
      return stopping;
    },
  };
}

/** SIGTERM, then waits for the exit (at once when it already exited). */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Runs a process role from source with tsx. */
function runRole(name: string, entry: string, env: Record<string, string>, show: boolean): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', show ? 'pipe' : 'ignore', 'pipe'],
  });
  // pino-pretty writes to stdout itself; piping its output on as well printed every line twice.
  if (show && child.stdout) child.stdout.pipe(pretty({ colorize: true, messageFormat: `[${name}] {msg}` }));
  child.stderr?.pipe(process.stderr);
  return child;
}

async function waitForReady(url: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  const roles = ['web', 'worker'];
  while (Date.now() < deadline) {
    const failed = children.findIndex((c) => c.exitCode !== null);
    if (failed >= 0)
      throw new Error(
        `the ${roles[failed] ?? 'child'} process exited during start-up (code ${children[failed]?.exitCode}); its log above says why`,
      );
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within 60 s`);
}

export const DEFAULT_DATA_DIR = join(root, '.data');
