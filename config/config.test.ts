import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, envVars, loadConfig } from './index.js';

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
const valid = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/scrm',
  DATA_KEYS: `k1:${key(1)},k2:${key(2)}`,
  LOOKUP_HMAC_KEY: key(3),
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('lists every problem at once, naming each variable', () => {
    const problems = problemsOf({ PORT: '99999', LOG_LEVEL: 'loud', DATA_KEYS: 'nokey', WECOM_API_BASE: 'ftp://x' });
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT: must be an integer 1-65535',
        'REDIS_URL: required',
        'MONGODB_URI: required',
        'LOOKUP_HMAC_KEY: required',
        expect.stringMatching(/^LOG_LEVEL: /),
        expect.stringMatching(/^DATA_KEYS: .*keyId:base64key/),
        expect.stringMatching(/^WECOM_API_BASE: must be a URL starting with https:\/\/ or http:\/\//),
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('joins the problems into one message', () => {
    expect(() => loadConfig({})).toThrow(
      /REDIS_URL: required; MONGODB_URI: required; DATA_KEYS: required; LOOKUP_HMAC_KEY: required/,
    );
  });

  it('applies documented defaults and returns a frozen object', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      defaultTimezone: 'Asia/Shanghai',
      publicBaseUrl: 'http://localhost:3000',
      wecom: { apiBase: 'https://qyapi.weixin.qq.com', timeoutMs: 5000 },
      redis: { queuePrefix: 'scrm' },
    });
    expect(config.dataKeys.activeId).toBe('k2');
    expect(config.dataKeys.keys.get('k1')).toEqual(Buffer.alloc(32, 1));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.redis)).toBe(true);
  });

  it('WORKER_QUEUES selects queues by name (all when empty) and names an unknown one', () => {
    expect(loadConfig(valid).workerQueues).toEqual([
      'wecom-inbound',
      'wecom-welcome',
      'domain-events',
      'scheduled',
      'maintenance',
    ]);
    expect(loadConfig({ ...valid, WORKER_QUEUES: ' wecom-welcome , wecom-welcome' }).workerQueues).toEqual([
      'wecom-welcome',
    ]);
    expect(problemsOf({ ...valid, WORKER_QUEUES: 'wecom-welcome,welcome' })).toEqual([
      expect.stringMatching(/^WORKER_QUEUES: unknown queue "welcome"; use a comma-separated list of wecom-inbound/),
    ]);
  });

  it('REDIS_MODE=cluster takes seed nodes, comma-separated; standalone takes one URL; a braced prefix is refused on a cluster', () => {
    expect(loadConfig(valid).redis.mode).toBe('standalone');
    const seeds = 'redis://10.0.0.1:7000, redis://10.0.0.2:7000';
    expect(loadConfig({ ...valid, REDIS_MODE: 'cluster', REDIS_URL: seeds }).redis).toMatchObject({
      mode: 'cluster',
      url: seeds,
    });
    expect(problemsOf({ ...valid, REDIS_URL: seeds })).toEqual([
      expect.stringMatching(/^REDIS_URL: lists several URLs; set REDIS_MODE=cluster/),
    ]);
    expect(problemsOf({ ...valid, REDIS_MODE: 'cluster', QUEUE_PREFIX: '{scrm}' })).toEqual([
      expect.stringMatching(/^QUEUE_PREFIX: must not contain \{ or \}/),
    ]);
    expect(problemsOf({ ...valid, REDIS_MODE: 'sharded' })).toEqual(['REDIS_MODE: must be standalone or cluster']);
    expect(
      problemsOf({ ...valid, REDIS_MODE: 'cluster', REDIS_URL: 'redis://10.0.0.1:7000,rediss://10.0.0.2:7000' }),
    ).toEqual([expect.stringMatching(/^REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//)]);
    expect(problemsOf({ ...valid, REDIS_MODE: 'cluster', REDIS_URL: 'redis://10.0.0.1:7000,,' })).toHaveLength(1);
  });

  it('treats empty values as unset, so an empty secret is refused', () => {
    expect(problemsOf({ ...valid, LOOKUP_HMAC_KEY: '' })).toEqual(['LOOKUP_HMAC_KEY: required']);
  });

  it('refuses short keys, a bad active key id and a missing public URL in production', () => {
    expect(problemsOf({ ...valid, LOOKUP_HMAC_KEY: key(1).slice(0, 12) })).toEqual([
      expect.stringMatching(/^LOOKUP_HMAC_KEY: must be base64 of at least 32/),
    ]);
    expect(problemsOf({ ...valid, DATA_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` })).toEqual([
      expect.stringMatching(/^DATA_KEYS: key "k1" must be base64 of exactly 32 bytes/),
    ]);
    expect(problemsOf({ ...valid, NODE_ENV: 'production', DATA_KEY_ACTIVE_ID: 'k9' })).toEqual([
      'PUBLIC_BASE_URL: required in production',
      'DATA_KEY_ACTIVE_ID: "k9" is not one of the DATA_KEYS ids (k1, k2)',
    ]);
    expect(problemsOf({ ...valid, DEFAULT_TIMEZONE: 'Mars/Olympus' })).toEqual([
      'DEFAULT_TIMEZONE: must be an IANA time zone such as Asia/Shanghai',
    ]);
  });

  it('takes TEST_SCHEDULER_PATTERN outside production only, as a six-field cron pattern', () => {
    expect(loadConfig(valid).testSchedulerPattern).toBeUndefined();
    expect(loadConfig({ ...valid, TEST_SCHEDULER_PATTERN: '*/30 * * * * *' }).testSchedulerPattern).toBe(
      '*/30 * * * * *',
    );
    expect(problemsOf({ ...valid, TEST_SCHEDULER_PATTERN: '0 3 * * *' })).toEqual([
      expect.stringMatching(/^TEST_SCHEDULER_PATTERN: must be a cron pattern with seconds/),
    ]);
    expect(
      problemsOf({
        ...valid,
        NODE_ENV: 'production',
        PUBLIC_BASE_URL: 'https://scrm.example.com',
        TEST_SCHEDULER_PATTERN: '*/30 * * * * *',
      }),
    ).toEqual([expect.stringMatching(/^TEST_SCHEDULER_PATTERN: refused in production/)]);
  });

  it('reads the hardening settings, listing their problems with the others', () => {
    const config = loadConfig({ ...valid, REDIS_URL: 'rediss://:pw@redis.internal:6380', REDIS_PASSWORD: 'from-env' });
    expect(config).toMatchObject({
      trustProxy: 0,
      queueDashboard: 'read-only',
      opsToken: undefined,
      redis: { password: 'from-env', tlsCa: undefined },
    });
    expect(
      problemsOf({ ...valid, QUEUE_DASHBOARD: 'rw', TRUST_PROXY: '-1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }),
    ).toEqual(
      expect.arrayContaining([expect.stringMatching(/^QUEUE_DASHBOARD: /), 'TRUST_PROXY: must be an integer 0-10']),
    );
    expect(problemsOf({ ...valid, REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'REDIS_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)',
      'REDIS_TLS_CA_FILE: only used with a rediss:// REDIS_URL',
    ]);
  });

  it('has no default for any secret', () => {
    const secrets = Object.entries(envVars).filter(([, spec]) => 'secret' in spec && spec.secret);
    expect(secrets.map(([name]) => name).sort()).toEqual([
      'BOOTSTRAP_API_TOKEN',
      'DATA_KEYS',
      'LOOKUP_HMAC_KEY',
      'OPS_TOKEN',
      'REDIS_PASSWORD',
    ]);
    for (const [name, spec] of secrets) expect(spec.schema.safeParse(undefined).data ?? null, name).toBeNull();
  });
});

describe('configuration documentation', () => {
  const names = Object.keys(envVars);

  it('config/.env.example documents every variable the schema reads, and nothing else', () => {
    const example = readFileSync(new URL('./.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(names));
  });

  it('the README configuration table lists every variable with its description', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [name, spec] of Object.entries(envVars)) {
      expect(readme, `README is missing ${name}`).toContain(`| \`${name}\` |`);
      expect(readme, `README description of ${name} differs from config/schema.ts`).toContain(spec.description);
    }
  });
});
