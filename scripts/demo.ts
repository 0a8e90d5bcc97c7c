/**
 * `npm run demo` (with `npm run dev` running in another terminal): plays the newcomer's story
 * through the WeCom sandbox with the shared, accelerated clock, printing what WeCom received and
 * what the advisor and the manager saw, the KPI summary, and the outcome: the owner who booked
 * arrives (the DMS webhook sends the repair order) and it is attributed to 张伟's follow-up. See
 * scripts/demo/story.ts and scripts/demo/arrival.ts.
 * It moves the development clock forward; restart `npm run dev` to go back to real time. It can be
 * run again (and after a restart): each run plays on a day after everything before it.
 */
import { loadEnvFiles } from '../config/env-files.js';
import { DEMO_CORP_ID } from './wecom-sandbox/world/demo-seed.js';
import { playDemo } from './demo/story.js';

async function main(): Promise<void> {
  // The running stack's settings (.data/dev.env, written by npm run dev; config/env-files.ts).
  const { devStack } = loadEnvFiles(process.env, process.cwd());
  const env = process.env;
  if (!devStack && !env.BOT_URL)
    throw new Error(
      'no running npm run dev found (it writes .data/dev.env while it runs): start it in another terminal first',
    );
  const adminToken = env.BOOTSTRAP_API_TOKEN ?? '';
  if (!adminToken) throw new Error('BOOTSTRAP_API_TOKEN is not set: start the stack with npm run dev, which sets it');
  const botUrl = env.BOT_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`;
  const sandboxUrl = env.SANDBOX_URL ?? env.WECOM_API_BASE ?? 'http://127.0.0.1:8090';
  if (
    !(await fetch(`${botUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    throw new Error(`no bot answers at ${botUrl}: start it with npm run dev`);
  const outcome = await playDemo(
    {
      botUrl,
      sandboxUrl,
      adminToken,
      corpId: DEMO_CORP_ID,
      timeZone: 'Asia/Shanghai',
      dmsSecret: env.DMS_WEBHOOK_SECRET,
    },
    (line) => console.log(line),
  );
  const ending = outcome.arrival?.attributedTo
    ? `, ${outcome.arrival.roNumber} attributed to 张伟's follow-up`
    : outcome.arrival
      ? `, ${outcome.arrival.roNumber} organic`
      : ' (no DMS_WEBHOOK_SECRET: the arrival was skipped)';
  console.log(`\ndone: ${outcome.kpi.doneOnTime} task done on time, ${outcome.kpi.escalated} escalated${ending}`);
}

main().catch((err: unknown) => {
  console.error(`npm run demo failed: ${(err as Error).message}`);
  process.exit(1);
});
