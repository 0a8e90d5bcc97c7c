/**
 * `npm run dev`: everything a newcomer needs on one machine — Redis (the local one, or started
 * here), the dev MongoDB server (or MONGODB_URI), the WeCom sandbox with the demo dealer, the
 * console (built when missing or stale), the web and worker processes, the example campaign
 * rules, and the DMS simulator feeding the webhook every 15 minutes (scripts/dev/dms-feed.ts). Ctrl-C stops it all in order and saves the data; `npm run dev -- --fresh` starts over.
 */
import { parseArgs } from 'node:util';
import pretty from 'pino-pretty';
import { devDataDir, loadEnvFiles } from '../config/env-files.js';
import { createLogger } from '../src/infra/logger.js';
import { demoCorpInput } from './lib/demo-corp.js';
import { ensureConsoleBuilt } from './dev/console-build.js';
import { startDevStack, type DevStack } from './dev/dev-stack.js';
import { DMS_FEED_EVERY_MS, startDmsFeed, type DmsFeed } from './dev/dms-feed.js';

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${name}=${raw}: must be a port number 0-65535`);
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fresh: { type: 'boolean', default: false } } });
  loadEnvFiles(process.env, process.cwd(), { devStack: false });
  if (process.env.NODE_ENV === 'production')
    throw new Error('npm run dev is for development; it refuses NODE_ENV=production');
  const logger = createLogger({ level: 'info', name: 'dev', destination: pretty({ colorize: true }) });
  const dataDir = devDataDir();
  const options = {
    port: portFrom('PORT', 3000),
    sandboxPort: portFrom('SANDBOX_PORT', 8090),
    mongoPort: portFrom('DEV_MONGO_PORT', 27017),
  };
  await ensureConsoleBuilt((line) => logger.info(line));

  const run: { starting?: Promise<DevStack>; stack?: DevStack; feed?: DmsFeed; stopping: boolean } = {
    stopping: false,
  };
  const stop = async (code: number) => {
    if (run.stopping) return;
    run.stopping = true;
    console.log('\nstopping: web and worker first, then the sandbox world and the data are saved…');
    run.feed?.stop();
    await run.starting?.then(
      (s) => s.stop(),
      () => undefined,
    );
    console.log('stopped; the data is kept in', dataDir);
    process.exit(code);
  };
  // `on`, not `once`: Ctrl-C reaches npm and this process, and npm forwards it again; a second
  // signal must not end the ordered shutdown before the data is saved.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  // Last resort if this process dies some other way: never leave a child running.
  process.on('exit', () => {
    for (const child of run.stack?.children ?? []) if (child.exitCode === null) child.kill('SIGKILL');
  });

  run.starting = startDevStack({
    ...options,
    dataDir,
    fresh: values.fresh,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    mongoUri: process.env.MONGODB_URI,
    persistMongo: true,
    logger,
    showProcessLogs: true,
    logLevel: process.env.LOG_LEVEL,
  });
  const stack = await run.starting;
  run.stack = stack;
  if (run.stopping) return;
  const { publicUrl, sandbox } = stack;
  console.log(
    [
      '',
      '  WeCom dealer SCRM bot — local development',
      `  console          ${publicUrl}/console/   sign in: pick 星途汽车城南4S店（演示）, press 企业微信登录 and pick 王强 (manager) or 张伟 (advisor),`,
      `                   or paste the admin token below into the API 令牌 box`,
      `  advisor sidebar  ${publicUrl}/console/sidebar   the chat toolbar page; outside WeCom the sandbox's JS-SDK stand-in lets you pick the chat`,
      `  bot (web)        ${publicUrl}            health ${publicUrl}/readyz, metrics ${publicUrl}/metrics`,
      `  queue dashboard  ${publicUrl}/admin/queues   (sign in to the console as admin first)`,
      `  admin API        ${publicUrl}/api/v1       Authorization: Bearer ${stack.adminToken}`,
      `  WeCom sandbox    ${sandbox.url}        world ${sandbox.url}/__sandbox/world, calls ${sandbox.url}/__sandbox/calls`,
      `  MongoDB          ${stack.mongoUri}`,
      `  Redis            ${stack.redisUrl}${stack.startedRedis ? ` (started here, data in ${dataDir}/redis)` : ''}`,
      `  data             ${dataDir} (${stack.resumed ? 'carried over from the last run' : 'new'}; npm run dev -- --fresh starts over)`,
      `  example rules    ${stack.rules.created} created, ${stack.rules.existing} already there`,
      "  CLIs             npm run token -- list, npm run demo … use this stack's settings (.data/dev.env) while it runs",
      `  DMS simulator    sends repair orders, policies and sales to ${publicUrl}/webhooks/dms/${demoCorpInput().corpId} now and every ${DMS_FEED_EVERY_MS / 60_000} min`,
      '                   (signed with DMS_WEBHOOK_SECRET in .data/dev.env), so outcomes flow into the cockpit while you develop',
      "  the story:       npm run demo   (in a second terminal; it ends with the booked owner's repair order attributed to 张伟)",
      `  try:             curl -X POST ${sandbox.url}/__sandbox/actions/addCustomer -H 'content-type: application/json' -d '{"corpId":"${demoCorpInput().corpId}","userid":"zhangwei","state":"delivery_demo"}'`,
      '',
    ].join('\n'),
  );
  run.feed = startDmsFeed({
    botUrl: stack.botUrl,
    corpId: demoCorpInput().corpId,
    secret: stack.dmsSecret,
    say: (line) => logger.info(line),
  });
  for (const child of stack.children)
    child.once('exit', (code) => {
      if (!run.stopping) {
        console.error(`a process exited (code ${code}); stopping`);
        void stop(1);
      }
    });
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${(err as Error).message}`);
  process.exit(1);
});
