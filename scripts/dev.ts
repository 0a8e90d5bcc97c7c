/**
 * `npm run dev`: everything a newcomer needs on one machine — Redis (the local one, or started
 * here), the dev MongoDB server (or MONGODB_URI), the WeCom sandbox with the demo dealer, the web
 * and worker processes, and the example campaign rules. Ctrl-C stops it all.
 */
import pretty from 'pino-pretty';
import { createLogger } from '../src/infra/logger.js';
import { demoCorpInput } from './lib/demo-corp.js';
import { DEFAULT_DATA_DIR, startDevStack } from './dev/dev-stack.js';

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') throw new Error('npm run dev is for development; it refuses NODE_ENV=production');
  const logger = createLogger({ level: 'info', name: 'dev', destination: pretty({ colorize: true }) });
  const stack = await startDevStack({
    port: Number(process.env.PORT ?? 3000),
    sandboxPort: Number(process.env.SANDBOX_PORT ?? 8090),
    dataDir: DEFAULT_DATA_DIR,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    mongoUri: process.env.MONGODB_URI,
    mongoPort: Number(process.env.DEV_MONGO_PORT ?? 27017),
    persistMongo: true,
    logger,
    showProcessLogs: true,
    logLevel: process.env.LOG_LEVEL,
  });
  const { botUrl, sandbox } = stack;
  console.log([
    '',
    '  WeCom dealer SCRM bot — local development',
    `  bot (web)        ${botUrl}            health ${botUrl}/readyz, metrics ${botUrl}/metrics`,
    `  queue dashboard  ${botUrl}/admin/queues   (sign in to the console as admin first)`,
    `  admin API        ${botUrl}/api/v1       Authorization: Bearer ${stack.adminToken}`,
    `  WeCom sandbox    ${sandbox.url}        world ${sandbox.url}/__sandbox/world, calls ${sandbox.url}/__sandbox/calls`,
    `  MongoDB          ${stack.mongoUri}`,
    `  Redis            ${stack.redisUrl}${stack.startedRedis ? ' (started here, data in .data/redis)' : ''}`,
    `  example rules    ${stack.rules.created} created, ${stack.rules.existing} already there`,
    '  the story:       npm run demo   (in a second terminal)',
    `  try:             curl -X POST ${sandbox.url}/__sandbox/actions/addCustomer -H 'content-type: application/json' -d '{"corpId":"${demoCorpInput().corpId}","userid":"zhangwei","state":"delivery_demo"}'`,
    '',
  ].join('\n'));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for (const child of stack.children) child.once('exit', (code) => { if (!stopping) { console.error(`a process exited (code ${code}); stopping`); void stop(); } });
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${(err as Error).message}`);
  process.exit(1);
});
