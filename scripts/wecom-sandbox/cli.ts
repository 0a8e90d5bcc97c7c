import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/infra/logger.js';
import { DEMO_CORP_ID, DEMO_SECRET, demoScenario } from './world/demo-seed.js';
import { startSandbox } from './index.js';

/**
 * `npm run sandbox -- --port 8090 [--seed demo|path.json] [--redis-url redis://…] [--key-prefix scrm] [--bot-url http://127.0.0.1:3000]`
 * Prints the URL; Ctrl-C stops it. See docs/wecom-sandbox.md.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      'redis-url': { type: 'string' },
      'key-prefix': { type: 'string', default: 'scrm' },
      'bot-url': { type: 'string', default: 'http://127.0.0.1:3000' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const logger = createLogger({ level: values['log-level'], name: 'wecom-sandbox' });
  let seed: unknown;
  if (values.seed === 'demo') seed = demoScenario(values['bot-url']);
  else if (values.seed) seed = JSON.parse(readFileSync(values.seed, 'utf8')) as unknown;
  const sandbox = await startSandbox({
    port: Number(values.port),
    host: values.host,
    seed,
    redisUrl: values['redis-url'],
    keyPrefix: values['key-prefix'],
    logger,
  });
  console.log(`WeCom sandbox listening on ${sandbox.url}`);
  console.log(`  WECOM_API_BASE=${sandbox.url}`);
  if (values.seed === 'demo') console.log(`  demo corp ${DEMO_CORP_ID}, secret ${DEMO_SECRET} (fake), agent 1000002`);
  console.log(`  control: ${sandbox.url}/__sandbox/world, /__sandbox/calls, /__sandbox/actions/<action>`);
  const stop = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
