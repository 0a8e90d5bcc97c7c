import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { setSharedClockOffset } from '../infra/clock.js';
import { startSandbox, type RunningSandbox } from '../../scripts/wecom-sandbox/index.js';
import { DEMO_CORP_ID, DEMO_SECRET, demoScenario } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import {
  deleteByPrefix,
  randomPrefix,
  silentLogger,
  wecomTestRedisUrl,
} from '../../scripts/wecom-sandbox/sandbox.test-support.js';

const FIXTURE = fileURLToPath(new URL('./token-child.fixture.ts', import.meta.url));

/** A child process speaking one JSON line per command. */
class Child {
  private readonly lines: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
  }
  next(timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(JSON.parse(ready) as Record<string, unknown>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not answer')), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  }
  async send(cmd: object): Promise<Record<string, unknown>> {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.next();
  }
}

let sandbox: RunningSandbox;
let redis: Redis;
let children: Child[] = [];
const prefix = randomPrefix('wecom-token');
const redisUrl = wecomTestRedisUrl();

const gettokenCount = () => sandbox.context.calls.list({ endpoint: 'gettoken' }).length;
const everyChild = (cmd: object) => Promise.all(children.map((c) => c.send(cmd)));

beforeAll(async () => {
  redis = new Redis(redisUrl);
  sandbox = await startSandbox({
    redisUrl,
    keyPrefix: prefix,
    logger: silentLogger(),
    seed: demoScenario('http://127.0.0.1:9'),
    nodeEnv: 'test',
  });
  const settings = JSON.stringify({
    apiBase: sandbox.url,
    redisUrl,
    keyPrefix: prefix,
    corpId: DEMO_CORP_ID,
    secret: DEMO_SECRET,
  });
  children = Array.from(
    { length: 4 },
    () =>
      new Child(spawn(process.execPath, ['--import', 'tsx', FIXTURE, settings], { stdio: ['pipe', 'pipe', 'pipe'] })),
  );
  for (const child of children) expect(await child.next(30_000)).toEqual({ ready: true });
}, 60_000);

afterAll(async () => {
  await Promise.all(
    children.map(async (c) => {
      c.proc.stdin.write(`${JSON.stringify({ op: 'exit' })}\n`);
      await new Promise((resolve) => c.proc.once('exit', resolve));
    }),
  );
  await sandbox.stop();
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

describe('access token shared by 4 processes', () => {
  it('calls gettoken exactly once per expiry or invalidation', async () => {
    expect(await everyChild({ op: 'calls', n: 5 })).toEqual(children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(1);

    // Early invalidation: every process gets 40014 and refreshes; only one calls gettoken.
    sandbox.context.tokens.invalidate(DEMO_CORP_ID);
    expect(await everyChild({ op: 'calls', n: 5 })).toEqual(children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(2);
    expect(
      sandbox.context.calls.list({ endpoint: 'externalcontact/get_follow_user_list', errcode: 40014 }).length,
    ).toBeGreaterThan(0);

    // Expiry on the shared accelerated clock: 2 h later, one refresh for everyone.
    await setSharedClockOffset(redis, prefix, 2 * 3600_000 + 5000, false);
    const sandboxClock = sandbox.context.clock as { refresh?: () => Promise<number> };
    await sandboxClock.refresh?.();
    await everyChild({ op: 'refresh-clock' });
    expect(await everyChild({ op: 'calls', n: 5 })).toEqual(children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(3);

    // And once more, invalidated again: still one.
    sandbox.context.tokens.invalidate();
    expect(await everyChild({ op: 'calls', n: 3 })).toEqual(children.map(() => ({ ok: 3 })));
    expect(gettokenCount()).toBe(4);
  }, 60_000);
});
