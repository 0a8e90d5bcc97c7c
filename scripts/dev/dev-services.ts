import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Whether a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * A Redis for development: the one at `url` when it answers, else a `redis-server` started here
 * (AOF on, noeviction, data under `dir`, in its own process group so the caller stops it last),
 * else a clear message on how to get one.
 */
export async function ensureRedis(url: string, dir: string): Promise<{ url: string; child?: ChildProcess }> {
  if (await redisAnswers(url)) return { url };
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      `no Redis answers at ${url} and redis-server is not installed: apt-get install redis-server (or set REDIS_URL)`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const port = new URL(url).port || '6379';
  // Its own process group: Ctrl-C reaches npm run dev, which stops Redis last, after the worker.
  const child = spawn(
    'redis-server',
    [
      '--port',
      port,
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore', detached: true },
  );
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url)) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`started redis-server on port ${port} but it does not answer`);
}

export interface PortClaim {
  port: number;
  /** The variable that moves it, e.g. `PORT`. */
  variable: string;
  what: string;
  /** The address the service binds (default: all, like the web process). */
  host?: string;
}

function portIsFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Checks the stack's fixed ports before anything starts, so a taken port is one clear line
 * (which port, what wanted it, which variable moves it) instead of a child's stack trace.
 */
export async function assertPortsFree(claims: readonly PortClaim[]): Promise<void> {
  const taken: string[] = [];
  for (const claim of claims) {
    if (claim.port === 0) continue;
    if (!(await portIsFree(claim.port, claim.host)))
      taken.push(
        `port ${claim.port} (${claim.what}) is taken by another program: stop it, or set ${claim.variable} to a free port`,
      );
  }
  if (taken.length > 0) throw new Error(taken.join('\n'));
}
