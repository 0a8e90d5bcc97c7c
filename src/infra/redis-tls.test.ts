import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../testing/ports.js';
import { waitFor } from '../testing/wait.js';
import { createLogger } from './logger.js';
import { createRedis, waitForRedis } from './redis.js';

/**
 * `rediss://` against a real redis-server with TLS and AUTH (docs/security.md, "Redis AUTH and
 * TLS"): a CA and a server certificate made with openssl for this run, the server on a private
 * port. Skipped where openssl or redis-server is missing (Debian's redis-server is built with TLS).
 */
const logger = createLogger({ level: 'silent', name: 'test' });
const PASSWORD = 't'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'scrm-redis-tls-'));
const openssl = (args: string[]) => spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' }).status === 0;
const tlsAvailable =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
let server: ChildProcess | undefined;
let port = 0;

beforeAll(async () => {
  if (!tlsAvailable) return;
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const made =
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=scrm-test-ca',
    ]) &&
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ]) &&
    openssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]);
  if (!made) throw new Error('openssl could not make the test certificates');
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '-::1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--tls-cert-file',
      join(dir, 'server.crt'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.crt'),
      '--tls-auth-clients',
      'no',
      '--requirepass',
      PASSWORD,
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    () =>
      spawnSync(
        'redis-cli',
        [
          '--tls',
          '--cacert',
          join(dir, 'ca.crt'),
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-a',
          PASSWORD,
          '--no-auth-warning',
          'ping',
        ],
        { encoding: 'utf8' },
      ).stdout.includes('PONG'),
    'redis-server with TLS to answer',
    { timeoutMs: 10_000, intervalMs: 100 },
  );
});

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!tlsAvailable)('Redis over TLS', () => {
  it('connects with rediss://, the configured CA and REDIS_PASSWORD, and runs commands', async () => {
    const url = `rediss://localhost:${port}`;
    const redis = createRedis({
      url,
      role: 'producer',
      logger,
      password: PASSWORD,
      tlsCa: readFileSync(join(dir, 'ca.crt')),
    });
    try {
      await waitForRedis(redis, url, 5000);
      await redis.set('tls-check', 'ok');
      expect(await redis.get('tls-check')).toBe('ok');
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a server whose certificate the configured trust does not cover', async () => {
    const url = `rediss://localhost:${port}`;
    // No CA given: the test CA is not among Node's trusted roots, so verification must fail.
    const redis = createRedis({ url, role: 'producer', logger, password: PASSWORD, lazyConnect: true });
    const errors: string[] = [];
    redis.on('error', (err: Error) => errors.push(err.message));
    try {
      await expect(redis.connect()).rejects.toThrow();
      expect(errors.join(' | ')).toMatch(/certificate/i);
      expect(redis.status).not.toBe('ready');
    } finally {
      redis.disconnect();
    }
  });
});
