/**
 * The newcomer's first run (docs/architecture.md §8): the `npm run dev` stack (real web and worker processes, the
 * dev MongoDB server, a private Redis, the WeCom sandbox) and `npm run demo`'s story played
 * non-interactively, with concrete outcomes asserted from the sandbox and the KPI API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../scripts/dev/dev-stack.js';
import { playDemo } from '../../scripts/demo/story.js';
import { startDmsFeed } from '../../scripts/dev/dms-feed.js';
import { waitFor } from '../../src/testing/wait.js';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { createLogger } from '../../src/infra/logger.js';
import { freePort } from '../../src/testing/ports.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/testing/redis-server.js';

let redis: PrivateRedis;
let stack: DevStack;
const dataDir = mkdtempSync(join(tmpdir(), 'scrm-demo-'));

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startDevStack({
    port: await freePort(),
    sandboxPort: 0,
    dataDir,
    redisUrl: redis.url,
    mongoPort: 0,
    persistMongo: false,
    logger: createLogger({ level: 'warn', name: 'demo-test' }),
    showProcessLogs: false,
    logLevel: 'warn',
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('welcomes and tags, delivers next-day cards, records a completion, escalates the ignored task and attributes the arrival', async () => {
    const lines: string[] = [];
    const outcome = await playDemo(
      {
        botUrl: stack.botUrl,
        sandboxUrl: stack.sandbox.url,
        adminToken: stack.adminToken,
        corpId: DEMO_CORP_ID,
        timeZone: 'Asia/Shanghai',
        dmsSecret: stack.dmsSecret,
      },
      (line) => lines.push(line),
    );
    expect(outcome).toMatchObject({ welcomes: 2, advisorCards: 2, cardUpdates: 1, leaderCards: 1 });
    expect(outcome.ownerTagMarks).toBeGreaterThanOrEqual(2);
    expect(outcome.kpi).toEqual({ due: 2, doneOnTime: 1, doneLate: 0, overdueOpen: 1, escalated: 1 });
    expect(lines).toContain("📊 张伟's follow-ups: 2 due, 1 done on time, 0 done late, 1 overdue, 1 escalated");
    expect(lines).toContainEqual(
      expect.stringMatching(/: \d+ new customers, \d+ new retained customers, \d+ welcomes sent, 2 follow-ups due$/),
    );
    // The outcome: the booked owner's repair order, sent through the signed DMS webhook, is credited to 张伟.
    expect(outcome.arrival).toMatchObject({ revenue: 680, attributedTo: 'zhangwei', attributedRevenue: 680 });
    expect(lines.at(-2)).toMatch(/^🔧 .+ arrives for the first maintenance: the DMS sends repair order RO-DEMO-\d+/);
    expect(lines.at(-1)).toBe(
      "🎯 attributed to 张伟's follow-up (已预约到店, the last touch before the arrival): 1 arrival(s), ¥680 credited to 张伟",
    );
  }, 150_000);

  it("npm run dev's DMS feed sends the demo dealer's vehicles through the signed webhook on the shared clock", async () => {
    const said: string[] = [];
    // The stack's settings come from its .data/dev.env, as for npm run dev (development only).
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', DEV_DATA_DIR: dataDir };
    const feed = startDmsFeed({
      botUrl: stack.botUrl,
      corpId: DEMO_CORP_ID,
      secret: stack.dmsSecret,
      say: (line) => said.push(line),
      env,
    });
    try {
      await waitFor(() => said.length > 0, "the DMS simulator's summary", { timeoutMs: 90_000 });
    } finally {
      feed.stop();
    }
    // The clock was moved ahead by the demo: a real-time signature would be refused.
    expect(said[0]).toMatch(/^DMS simulator: 1 vehicles, \d+ outcomes sent/);
    expect(said[0]).not.toMatch(/rejected [1-9]/);
  }, 120_000);
});
