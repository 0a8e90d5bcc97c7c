/**
 * Foundation "done when": the built web and worker processes against real Redis and the dev
 * MongoDB server, their health while a dependency is down, config errors and SIGTERM.
 * Each dependency that gets stopped here is a private instance, never the shared one.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevMongo, type DevMongoServer } from '../scripts/dev-mongo/index.js';
import { testEnv } from './testing/env.js';
import { freePort } from './testing/ports.js';
import { getJson, spawnNode, type RunningProcess } from './testing/processes.js';
import { startPrivateRedis, type PrivateRedis } from './testing/redis-server.js';
import { waitFor } from './testing/wait.js';

type Readyz = { status: string; dependencies: Record<string, { state: string }> };

let redis: PrivateRedis;
let mongo: DevMongoServer;
const running: RunningProcess[] = [];

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'pipe' });
  [redis, mongo] = await Promise.all([startPrivateRedis(), startDevMongo({ port: 0 })]);
}, 180_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.allSettled([redis?.stop(), mongo?.stop()]);
});

async function startRoles() {
  const [webPort, workerPort] = await Promise.all([freePort(), freePort()]);
  const env = testEnv({
    REDIS_URL: redis.url,
    MONGODB_URI: `${mongo.uri}/processes`,
    PORT: String(webPort),
    WORKER_HEALTH_PORT: String(workerPort),
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '8000',
    SPOOL_PATH: '/dev/null/spool',
  });
  const web = spawnNode(['dist/src/main.js'], env);
  const worker = spawnNode(['dist/jobs/worker.js'], env);
  running.push(web, worker);
  const webUrl = `http://127.0.0.1:${webPort}`;
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  await waitFor(async () => (await getJson(`${webUrl}/readyz`)).status === 200, `web ready\n${web.output()}`, {
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await getJson(`${workerUrl}/readyz`)).status === 200, `worker ready\n${worker.output()}`, {
    timeoutMs: 20_000,
  });
  return { web, worker, webUrl, workerUrl };
}

describe('web and worker processes', () => {
  it('answer /livez and /readyz, stay honest while MongoDB and Redis are down, and exit 0 on SIGTERM', async () => {
    const { web, worker, webUrl, workerUrl } = await startRoles();
    expect((await getJson(`${webUrl}/livez`)).status).toBe(200);
    expect((await getJson(`${workerUrl}/livez`)).status).toBe(200);
    const ready = (await getJson(`${webUrl}/readyz`)).body as Readyz;
    expect(ready.dependencies).toMatchObject({ redis: { state: 'up' }, mongodb: { state: 'up' } });

    // MongoDB down: the web stays ready (callbacks do not need it), the worker does not.
    await mongo.stop();
    const webWithoutMongo = await waitFor(async () => {
      const res = await getJson(`${webUrl}/readyz`);
      return (res.body as Readyz).dependencies.mongodb?.state === 'degraded' ? res : undefined;
    }, 'web to report MongoDB degraded');
    expect(webWithoutMongo.status).toBe(200);
    const workerWithoutMongo = await waitFor(async () => {
      const res = await getJson(`${workerUrl}/readyz`);
      return res.status === 503 ? res : undefined;
    }, 'worker to report not ready');
    expect((workerWithoutMongo.body as Readyz).dependencies.mongodb?.state).toBe('down');

    // Redis down too, and the spool unusable (SPOOL_PATH under a file): the web cannot take
    // callbacks and is not ready; Redis itself is reported degraded (the spool could cover it).
    await redis.kill();
    const webWithoutRedis = await waitFor(async () => {
      const res = await getJson(`${webUrl}/readyz`);
      return res.status === 503 ? res : undefined;
    }, 'web to report Redis down');
    expect((webWithoutRedis.body as Readyz).dependencies.ingest?.state).toBe('down');
    expect((webWithoutRedis.body as Readyz).dependencies.redis?.state).toBe('degraded');
    expect((await getJson(`${webUrl}/livez`)).status).toBe(200);

    await redis.restart();
    const [webExit, workerExit] = await Promise.all([web.stop('SIGTERM', 12_000), worker.stop('SIGTERM', 12_000)]);
    expect(webExit, web.output()).toEqual({ code: 0, signal: null });
    expect(workerExit, worker.output()).toEqual({ code: 0, signal: null });
    expect(web.output()).toContain('shutdown complete');
  }, 90_000);

  it('refuses to start on invalid configuration, listing every problem with the variable names', async () => {
    const web = spawnNode(['dist/src/main.js'], { PORT: 'eighty', NODE_ENV: 'test' });
    const exit = await web.exited;
    expect(exit.code).not.toBe(0);
    const output = web.output();
    for (const expected of [
      'PORT: must be an integer 1-65535',
      'REDIS_URL: required',
      'MONGODB_URI: required',
      'DATA_KEYS: required',
      'LOOKUP_HMAC_KEY: required',
    ]) {
      expect(output).toContain(expected);
    }
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
