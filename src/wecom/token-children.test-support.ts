import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
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
export class TokenChild {
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

/** What the multi-process WeCom credential tests share once `beforeAll` ran. */
export interface TokenChildren {
  sandbox: RunningSandbox;
  redis: Redis;
  prefix: string;
  children: TokenChild[];
  /** Sends one command to every child, answers in child order. */
  everyChild(cmd: object): Promise<Array<Record<string, unknown>>>;
  /** Successful calls the sandbox saw on an endpoint (`gettoken`, `get_jsapi_ticket` ...). */
  fetches(endpoint: string): number;
  /** Moves the shared clock (sandbox and children) `ms` ahead. */
  advance(ms: number): Promise<void>;
}

/**
 * The set-up of the token and JS-SDK ticket multi-process tests: a WeCom sandbox with the demo
 * corp, and `count` child processes (token-child.fixture.ts) sharing one Redis key prefix, started
 * in `beforeAll` and stopped (keys removed) in `afterAll`. The result is filled in by `beforeAll`.
 */
export function useTokenChildren(name: string, count = 4): TokenChildren {
  const prefix = randomPrefix(name);
  const redisUrl = wecomTestRedisUrl();
  const t = { prefix, children: [] as TokenChild[] } as unknown as TokenChildren;
  t.everyChild = (cmd) => Promise.all(t.children.map((c) => c.send(cmd)));
  t.fetches = (endpoint) => t.sandbox.context.calls.list({ endpoint, errcode: 0 }).length;
  t.advance = async (ms) => {
    await setSharedClockOffset(t.redis, prefix, ms, false);
    const sandboxClock = t.sandbox.context.clock as { refresh?: () => Promise<number> };
    await sandboxClock.refresh?.();
    await t.everyChild({ op: 'refresh-clock' });
  };

  beforeAll(async () => {
    t.redis = new Redis(redisUrl);
    t.sandbox = await startSandbox({
      redisUrl,
      keyPrefix: prefix,
      logger: silentLogger(),
      seed: demoScenario('http://127.0.0.1:9'),
      nodeEnv: 'test',
    });
    const settings = JSON.stringify({
      apiBase: t.sandbox.url,
      redisUrl,
      keyPrefix: prefix,
      corpId: DEMO_CORP_ID,
      secret: DEMO_SECRET,
    });
    t.children = Array.from(
      { length: count },
      () =>
        new TokenChild(
          spawn(process.execPath, ['--import', 'tsx', FIXTURE, settings], { stdio: ['pipe', 'pipe', 'pipe'] }),
        ),
    );
    for (const child of t.children) expect(await child.next(30_000)).toEqual({ ready: true });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      t.children.map(async (c) => {
        c.proc.stdin.write(`${JSON.stringify({ op: 'exit' })}\n`);
        await new Promise((resolve) => c.proc.once('exit', resolve));
      }),
    );
    await t.sandbox?.stop();
    if (t.redis) {
      await deleteByPrefix(t.redis, prefix);
      await t.redis.quit();
    }
  });
  return t;
}
