/**
 * `npm run dev`: everything a newcomer needs on one machine — Redis (the local one, or started
 * here), the dev MongoDB server (or MONGODB_URI), the WeCom sandbox with the demo dealer, the web
 * and worker processes, and the example campaign rules. Ctrl-C stops it all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import pretty from 'pino-pretty';
import mongoose from 'mongoose';
import { startSandbox } from './wecom-sandbox/index.js';
import { demoScenario } from './wecom-sandbox/world/demo-seed.js';
import { startDevMongo, type DevMongoServer } from './dev-mongo/index.js';
import { loadOrCreateDevSecrets } from './dev/dev-secrets.js';
import { ensureRedis } from './dev/dev-services.js';
import { demoCorpInput } from './lib/demo-corp.js';
import { loadConfig } from '../config/index.js';
import { CorpService } from '../src/domain/corps/corp.service.js';
import { DataCipher } from '../src/infra/data-crypto.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { seedExampleRules } from './dev/example-rules.js';

const root = resolve(import.meta.dirname, '..');
const dataDir = join(root, '.data');

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') throw new Error('npm run dev is for development; it refuses NODE_ENV=production');
  const port = Number(process.env.PORT ?? 3000);
  const sandboxPort = Number(process.env.SANDBOX_PORT ?? 8090);
  const log = createLogger({ level: 'info', name: 'dev', destination: pretty({ colorize: true }) });

  const secrets = loadOrCreateDevSecrets(join(dataDir, 'dev-secrets.json'));
  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', join(dataDir, 'redis'));
  let mongo: DevMongoServer | undefined;
  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    mongo = await startDevMongo({ port: Number(process.env.DEV_MONGO_PORT ?? 27017), dataFile: join(dataDir, 'mongo.snapshot'), logger: log });
    mongoUri = `${mongo.uri}/scrm`;
  }
  const botUrl = `http://127.0.0.1:${port}`;
  const sandbox = await startSandbox({ port: sandboxPort, seed: demoScenario(botUrl), redisUrl: redis.url, keyPrefix: 'scrm', logger: log.child({ name: 'wecom-sandbox' }) });

  const env: Record<string, string> = {
    NODE_ENV: 'development', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', PORT: String(port), WORKER_HEALTH_PORT: String(port + 1),
    REDIS_URL: redis.url, MONGODB_URI: mongoUri, WECOM_API_BASE: sandbox.url, PUBLIC_BASE_URL: botUrl, SPOOL_PATH: join(dataDir, 'spool'),
    ...secrets,
  };
  const config = loadConfig(env);

  // Register the demo dealer and the example campaigns (idempotent).
  await mongoose.connect(config.mongo.uri, { serverSelectionTimeoutMS: 5000 });
  const publisher = createRedis({ url: redis.url, role: 'producer', logger: log });
  const corps = new CorpService({ cipher: new DataCipher(config.dataKeys.keys, config.dataKeys.activeId), defaultTimezone: config.defaultTimezone, redis: publisher, prefix: config.redis.queuePrefix });
  await corps.upsert(demoCorpInput());
  const rules = await seedExampleRules(() => new Date());
  await mongoose.disconnect();
  publisher.disconnect();

  const children = [runRole('web', 'src/main.ts', env), runRole('worker', 'jobs/worker.ts', env)];
  console.log([
    '',
    '  WeCom dealer SCRM bot — local development',
    `  bot (web)        ${botUrl}            health ${botUrl}/readyz, metrics ${botUrl}/metrics`,
    `  queue dashboard  ${botUrl}/admin/queues   (password: the bootstrap token)`,
    `  admin API        ${botUrl}/api/v1       Authorization: Bearer ${secrets.BOOTSTRAP_API_TOKEN}`,
    `  WeCom sandbox    ${sandbox.url}        world ${sandbox.url}/__sandbox/world, calls ${sandbox.url}/__sandbox/calls`,
    `  MongoDB          ${mongoUri}${mongo ? ' (dev server, snapshot in .data/)' : ''}`,
    `  Redis            ${redis.url}${redis.child ? ' (started here, data in .data/redis)' : ''}`,
    `  example rules    ${rules.created} created, ${rules.existing} already there`,
    '  try: curl -X POST ' + `${sandbox.url}/__sandbox/actions/addCustomer -H 'content-type: application/json' -d '{"corpId":"${demoCorpInput().corpId}","userid":"zhangwei","state":"delivery_demo"}'`,
    '',
  ].join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await Promise.all(children.map((c) => new Promise<void>((done) => {
      if (c.exitCode !== null) return done();
      c.once('exit', () => done());
      c.kill('SIGTERM');
    })));
    await sandbox.stop();
    await mongo?.stop();
    redis.child?.kill('SIGTERM');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for (const child of children) child.once('exit', (code) => { if (!stopping) { console.error(`a process exited (code ${code}); stopping`); void stop(); } });
}

/** Runs a process role from source with tsx; its JSON logs are pretty-printed with a prefix. */
function runRole(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = pretty({ colorize: true, messageFormat: `[${name}] {msg}` });
  out.pipe(process.stdout);
  child.stdout?.pipe(out);
  child.stderr?.pipe(process.stderr);
  return child;
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${(err as Error).message}`);
  process.exit(1);
});
