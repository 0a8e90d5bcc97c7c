/**
 * `npm run demo` (with `npm run dev` running in another terminal): plays the newcomer's story
 * through the WeCom sandbox with the shared, accelerated clock, printing what WeCom received and
 * what the advisor and the manager saw, and ends with the KPI summary. See scripts/demo/story.ts.
 * It moves the development clock forward; restart `npm run dev` to go back to real time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_CORP_ID } from './wecom-sandbox/world/demo-seed.js';
import { DEFAULT_DATA_DIR } from './dev/dev-stack.js';
import { playDemo } from './demo/story.js';

async function main(): Promise<void> {
  const secretsFile = join(DEFAULT_DATA_DIR, 'dev-secrets.json');
  if (!existsSync(secretsFile)) throw new Error('start the bot first with npm run dev (it creates .data/dev-secrets.json)');
  const { BOOTSTRAP_API_TOKEN } = JSON.parse(readFileSync(secretsFile, 'utf8')) as { BOOTSTRAP_API_TOKEN: string };
  const botUrl = process.env.BOT_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  if (!(await fetch(`${botUrl}/readyz`).then((r) => r.ok, () => false))) throw new Error(`no bot answers at ${botUrl}: start it with npm run dev`);
  const outcome = await playDemo(
    { botUrl, sandboxUrl: process.env.SANDBOX_URL ?? 'http://127.0.0.1:8090', adminToken: BOOTSTRAP_API_TOKEN, corpId: DEMO_CORP_ID, timeZone: 'Asia/Shanghai' },
    (line) => console.log(line),
  );
  console.log(`\ndone: ${outcome.kpi.doneOnTime} task done on time, ${outcome.kpi.escalated} escalated`);
}

main().catch((err: unknown) => {
  console.error(`npm run demo failed: ${(err as Error).message}`);
  process.exit(1);
});
