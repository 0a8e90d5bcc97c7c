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

/** A child process speaking one JSON line per command (see token-child.fixture.ts). */
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
const prefix = randomPrefix('wecom-ticket');
const redisUrl = wecomTestRedisUrl();

const fetches = (endpoint: string) => sandbox.context.calls.list({ endpoint, errcode: 0 }).length;
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

describe('JS-SDK tickets shared by 4 processes', () => {
  it('fetches each ticket exactly once per expiry, within WeCom hourly limits', async () => {
    for (const kind of ['corp', 'agent']) {
      expect(await everyChild({ op: 'tickets', kind, n: 5 })).toEqual(children.map(() => ({ distinct: 1 })));
    }
    expect(fetches('get_jsapi_ticket')).toBe(1);
    expect(fetches('ticket/get')).toBe(1);
    expect(sandbox.context.calls.list({ endpoint: 'ticket/get' })[0]?.query).toMatchObject({ type: 'agent_config' });

    // The tickets are cached in Redis sealed, never in clear.
    const ticket = sandbox.context.tickets.valid(
      DEMO_CORP_ID,
      sandbox.context.world.corp(DEMO_CORP_ID)!.agentId,
      'corp',
    );
    expect(ticket).toBeTruthy();
    for (const key of await redis.keys(`${prefix}:wecom:*ticket*`)) expect(await redis.get(key)).not.toContain(ticket);

    // Two hours later on the shared clock: both tickets expired, one fetch each for everyone.
    await setSharedClockOffset(redis, prefix, 2 * 3600_000 + 5000, false);
    const sandboxClock = sandbox.context.clock as { refresh?: () => Promise<number> };
    await sandboxClock.refresh?.();
    await everyChild({ op: 'refresh-clock' });
    for (const kind of ['corp', 'agent']) {
      expect(await everyChild({ op: 'tickets', kind, n: 3 })).toEqual(children.map(() => ({ distinct: 1 })));
    }
    expect(fetches('get_jsapi_ticket')).toBe(2);
    expect(fetches('ticket/get')).toBe(2);
  }, 60_000);

  it('the sandbox refuses ticket fetches past the hourly limit with 45009, like WeCom', async () => {
    const corp = sandbox.context.world.corp(DEMO_CORP_ID)!;
    sandbox.context.tickets.limits.agent = sandbox.context.tickets.fetchCount(DEMO_CORP_ID, 'agent');
    const token = sandbox.context.tokens.issue(DEMO_CORP_ID).token;
    const res = await fetch(`${sandbox.url}/cgi-bin/ticket/get?access_token=${token}&type=agent_config`);
    expect(await res.json()).toMatchObject({ errcode: 45009 });
    const wrongType = await fetch(`${sandbox.url}/cgi-bin/ticket/get?access_token=${token}&type=other`);
    expect(await wrongType.json()).toMatchObject({ errcode: 40097 });
    expect(corp.agentId).toBeGreaterThan(0);
  });
});
