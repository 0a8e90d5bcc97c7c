import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import mongoose from 'mongoose';
import pretty from 'pino-pretty';
import { loadConfig } from '../../config/index.js';
import { refreshDirectory } from '../../src/domain/customers/advisor-directory.service.js';
import { CorpService } from '../../src/domain/corps/corp.service.js';
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
import { ensureRedis } from './dev-services.js';
import { seedExampleRules } from './example-rules.js';

export interface DevStackOptions {
  port: number;
  sandboxPort: number;
  /** Where development secrets, the Redis AOF, the MongoDB snapshot and the spool live. */
  dataDir: string;
  redisUrl: string;
  /** A real MongoDB; otherwise the dev server runs here (on `mongoPort`, 0 = any). */
  mongoUri?: string;
  mongoPort: number;
  /** Keep the dev MongoDB server's data across restarts. */
  persistMongo: boolean;
  logger: Logger;
  /** Pretty-print the web and worker logs to stdout (a person watching) or drop them (tests). */
  showProcessLogs: boolean;
  logLevel?: string;
}

export interface DevStack {
  botUrl: string;
  sandbox: RunningSandbox;
  adminToken: string;
  mongoUri: string;
  redisUrl: string;
  startedRedis: boolean;
  rules: { created: number; existing: number };
  children: ChildProcess[];
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');

/**
 * Everything the bot needs on one machine (design §8), as `npm run dev` and the demo test start it:
 * Redis, the dev MongoDB server (or a real one), the WeCom sandbox with the demo dealer, the demo
 * corp and example campaigns registered, and the web and worker processes from source.
 */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const secrets = loadOrCreateDevSecrets(join(opts.dataDir, 'dev-secrets.json'));
  const redis = await ensureRedis(opts.redisUrl, join(opts.dataDir, 'redis'));
  // A fresh start runs on real time again (npm run demo moves the shared clock forward).
  const clockReset = createRedis({ url: redis.url, role: 'producer', logger: opts.logger });
  await waitForRedis(clockReset, redis.url, 5000);
  await setSharedClockOffset(clockReset, 'scrm', 0, false);
  clockReset.disconnect();
  let mongo: DevMongoServer | undefined;
  let mongoUri = opts.mongoUri;
  if (!mongoUri) {
    mongo = await startDevMongo({ port: opts.mongoPort, dataFile: opts.persistMongo ? join(opts.dataDir, 'mongo.snapshot') : undefined, logger: opts.logger });
    mongoUri = `${mongo.uri}/scrm`;
  }
  const botUrl = `http://127.0.0.1:${opts.port}`;
  const sandbox = await startSandbox({ port: opts.sandboxPort, seed: demoScenario(botUrl), redisUrl: redis.url, keyPrefix: 'scrm', logger: opts.logger.child({ name: 'wecom-sandbox' }) });
  const env: Record<string, string> = {
    NODE_ENV: 'development', LOG_LEVEL: opts.logLevel ?? 'info', PORT: String(opts.port), WORKER_HEALTH_PORT: '0', QUEUE_PREFIX: 'scrm',
    REDIS_URL: redis.url, MONGODB_URI: mongoUri, WECOM_API_BASE: sandbox.url, WECOM_OAUTH_BASE: sandbox.url, WECOM_QR_LOGIN_BASE: sandbox.url, PUBLIC_BASE_URL: botUrl, SPOOL_PATH: join(opts.dataDir, 'spool'),
    ...secrets,
  };
  const config = loadConfig(env);

  await mongoose.connect(config.mongo.uri, { serverSelectionTimeoutMS: 5000 });
  const publisher = createRedis({ url: redis.url, role: 'producer', logger: opts.logger });
  await new CorpService({ cipher: new DataCipher(config.dataKeys.keys, config.dataKeys.activeId), defaultTimezone: config.defaultTimezone, redis: publisher, prefix: config.redis.queuePrefix }).upsert(demoCorpInput());
  const rules = await seedExampleRules(() => new Date());
  // The member directory (advisors, departments, leaders) from the sandbox now, as the nightly
  // reconciliation would: sign-in then knows 王强 leads 销售部 from the first minute.
  const corp = demoCorpInput();
  const api = createWecomClient({ apiBase: config.wecom.apiBase, redis: publisher, logger: opts.logger, clock: new SystemClock(), timeoutMs: config.wecom.timeoutMs, keyPrefix: config.redis.queuePrefix })
    .forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: Number(corp.agentId) });
  await refreshDirectory({ corpId: corp.corpId, api, clock: new SystemClock(), logger: opts.logger });
  await mongoose.disconnect();
  publisher.disconnect();

  const children = [runRole('web', 'src/main.ts', env, opts.showProcessLogs), runRole('worker', 'jobs/worker.ts', env, opts.showProcessLogs)];
  await waitForReady(`${botUrl}/readyz`, children);
  return {
    botUrl, sandbox, adminToken: secrets.BOOTSTRAP_API_TOKEN, mongoUri, redisUrl: redis.url, startedRedis: Boolean(redis.child), rules, children,
    async stop() {
      await Promise.all(children.map((c) => new Promise<void>((done) => {
        if (c.exitCode !== null || c.signalCode !== null) return done();
        c.once('exit', () => done());
        c.kill('SIGTERM');
      })));
      await sandbox.stop();
      await mongo?.stop();
      redis.child?.kill('SIGTERM');
    },
  };
}

/** Runs a process role from source with tsx. */
function runRole(name: string, entry: string, env: Record<string, string>, show: boolean): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', show ? 'pipe' : 'ignore', 'pipe'] });
  if (show && child.stdout) child.stdout.pipe(pretty({ colorize: true, messageFormat: `[${name}] {msg}` })).pipe(process.stdout);
  child.stderr?.pipe(process.stderr);
  return child;
}

async function waitForReady(url: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (children.some((c) => c.exitCode !== null)) throw new Error('the web or worker process exited during start-up');
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within 60 s`);
}

export const DEFAULT_DATA_DIR = join(root, '.data');
