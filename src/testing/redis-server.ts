import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and removes its data directory. */
  stop(): Promise<void>;
  /** Kills the server abruptly, keeping the port free for restart(). */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill), with the same AOF data if enabled. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis stops answering without closing sockets. */
  freeze(): void;
  thaw(): void;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a private `redis-server` on a free port, configured as production wants it
 * (noeviction, AOF optional, AUTH with `password`). Tests that stop, freeze or overload Redis use one of these,
 * never the shared 6379.
 */
export async function startPrivateRedis({
  appendOnly = false,
  appendFsync = 'always',
  password,
}: {
  appendOnly?: boolean;
  appendFsync?: 'always' | 'everysec' | 'no';
  password?: string;
} = {}): Promise<PrivateRedis> {
  if (!redisServerAvailable()) {
    throw new Error(
      'redis-server is not on PATH: install it (apt-get install redis-server) or set REDIS_URL to a Redis the tests may use',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'scrm-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const launch = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        dir,
        '--appendonly',
        appendOnly ? 'yes' : 'no',
        '--appendfsync',
        appendFsync,
        '--maxmemory-policy',
        'noeviction',
        '--protected-mode',
        'no',
        ...(password ? ['--requirepass', password] : []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const probe = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          ...(password ? { password } : {}),
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      `redis-server on port ${port}`,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  };

  const terminate = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });

  await launch();
  return {
    url,
    port,
    async stop() {
      child?.kill('SIGCONT');
      await terminate('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      child?.kill('SIGCONT');
      await terminate('SIGKILL');
    },
    async restart() {
      await launch();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
  };
}
