import { z } from 'zod';
import { QueueName } from '../src/queues/queue-names.js';

/**
 * Every environment variable the bot reads, with a one-line description.
 * This record is the single definition: loadConfig() validates with it, and the README's
 * configuration table and config/.env.example are checked against it by config.test.ts.
 */

const nodeEnv = z.enum(['development', 'test', 'production']);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const intIn = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be an integer ${min}-${max}` })
    .int({ error: `must be an integer ${min}-${max}` })
    .min(min, { error: `must be an integer ${min}-${max}` })
    .max(max, { error: `must be an integer ${min}-${max}` });

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/** REDIS_URL: one redis:// or rediss:// URL, or several comma-separated (cluster seed nodes). */
const redisUrlList = z.string().refine(
  (value) => {
    const parts = value.split(',').map((part) => part.trim());
    if (parts.some((part) => part === '')) return false;
    try {
      const protocols = parts.map((part) => new URL(part).protocol);
      return protocols.every((p) => p === protocols[0] && (p === 'redis:' || p === 'rediss:'));
    } catch {
      return false;
    }
  },
  {
    error:
      'must be a URL starting with redis:// or rediss:// (with REDIS_MODE=cluster: seed nodes, comma-separated, all redis:// or all rediss://)',
  },
);

const base64Key = (minBytes: number) =>
  z.string().refine((value) => Buffer.from(value, 'base64').length >= minBytes && /^[A-Za-z0-9+/=_-]+$/.test(value), {
    error: `must be base64 of at least ${minBytes} random bytes (generate with: openssl rand -base64 ${minBytes})`,
  });

/** `id:base64key` pairs separated by commas; each key exactly 32 bytes (AES-256). */
const dataKeys = z
  .string({ error: 'required' })
  .min(1, { error: 'required' })
  .transform((value, ctx) => {
    const keys = new Map<string, Buffer>();
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const sep = entry.indexOf(':');
      const id = sep > 0 ? entry.slice(0, sep) : '';
      const key = Buffer.from(entry.slice(sep + 1), 'base64');
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
        ctx.addIssue({
          code: 'custom',
          message: `entry "${id || entry.slice(0, 8)}…" must look like keyId:base64key (key id: letters, digits, _ or -)`,
        });
        continue;
      }
      if (key.length !== 32) {
        ctx.addIssue({
          code: 'custom',
          message: `key "${id}" must be base64 of exactly 32 bytes (openssl rand -base64 32)`,
        });
        continue;
      }
      if (keys.has(id)) ctx.addIssue({ code: 'custom', message: `key id "${id}" appears twice` });
      keys.set(id, key);
    }
    return keys;
  });

const QUEUE_NAMES: readonly QueueName[] = Object.values(QueueName);
/** A comma-separated subset of the queues; empty = all of them. */
const queueList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const names = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const name of names) {
      if (!(QUEUE_NAMES as readonly string[]).includes(name))
        ctx.addIssue({
          code: 'custom',
          message: `unknown queue "${name}"; use a comma-separated list of ${QUEUE_NAMES.join(', ')} (empty = all)`,
        });
    }
    return (names.length > 0 ? [...new Set(names)] : [...QUEUE_NAMES]) as QueueName[];
  });

export interface EnvVar {
  schema: z.ZodType;
  description: string;
  /** Value shown in .env.example; secrets show a generator command instead of a value. */
  example: string;
  secret?: boolean;
}

export const envVars = {
  NODE_ENV: {
    schema: nodeEnv.default('development'),
    description:
      'development, test or production; production refuses dev-only features (clock offset, dev MongoDB server)',
    example: 'development',
  },
  PORT: {
    schema: intIn(1, 65535).default(3000),
    description: 'HTTP port of the web process (callbacks, admin API, console, health, metrics)',
    example: '3000',
  },
  WORKER_HEALTH_PORT: {
    schema: intIn(0, 65535).default(3001),
    description: 'HTTP port where the worker process serves /livez, /readyz and /metrics (0 = off)',
    example: '3001',
  },
  WORKER_QUEUES: {
    schema: queueList,
    description:
      'Queues this worker process consumes, comma-separated (empty = all); e.g. run one worker with wecom-welcome alone so welcomes never wait behind other work. wecom-inbound means every inbound partition',
    example: '',
  },
  INLINE_DOMAIN_EVENTS: {
    schema: intIn(0, 1).default(1),
    description:
      '1: a wecom-inbound job runs the domain events its callback records itself, after its handlers (docs/reliability.md); 0: they go to the domain-events queue as jobs of their own',
    example: '1',
  },
  LOG_LEVEL: {
    schema: logLevel.default('info'),
    description: 'pino log level: fatal, error, warn, info, debug, trace or silent',
    example: 'info',
  },
  REDIS_URL: {
    schema: redisUrlList,
    description:
      'Redis for queues, de-duplication, token cache and locks; must run with maxmemory-policy noeviction and AOF. With REDIS_MODE=cluster: seed nodes, comma-separated (redis://10.0.0.1:7000,redis://10.0.0.2:7000)',
    example: 'redis://127.0.0.1:6379',
  },
  REDIS_MODE: {
    schema: z.enum(['standalone', 'cluster'], { error: 'must be standalone or cluster' }).default('standalone'),
    description:
      'standalone (one Redis, default) or cluster (a Redis Cluster; each queue gets its own hash slot, docs/scale.md)',
    example: 'standalone',
  },
  INBOUND_PARTITIONS: {
    schema: intIn(1, 64).default(1),
    description:
      'How many queues wecom-inbound is split into, by a stable hash of the corp id (a corp keeps its order in one); with REDIS_MODE=cluster each is a hash slot of its own, so ingestion spreads over the nodes. 1 keeps the single queue; every web and worker process must use the same value (docs/scale.md)',
    example: '1',
  },
  TEST_SCHEDULER_PATTERN: {
    schema: z
      .string()
      .regex(/^(\S+\s+){5}\S+$/, {
        error: 'must be a cron pattern with seconds, six fields (e.g. "*/30 * * * * *")',
      })
      .optional(),
    description:
      'Tests only, refused in production: a six-field cron pattern (with seconds) that replaces the pattern of every cron job scheduler (cockpit rollups, the hourly and the daily per-corp jobs), so a test sees them run several times; unset = their real patterns (docs/scale.md, "Many instances")',
    example: '',
  },
  QUEUE_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9{}_-]{1,32}$/, { error: 'must be 1-32 letters, digits, _, - or {}' })
      .default('scrm'),
    description:
      'Prefix of every Redis key of the bot; no {} with REDIS_MODE=cluster (each queue carries its own hash tag there, docs/scale.md)',
    example: 'scrm',
  },
  MONGODB_URI: {
    schema: url(['mongodb:', 'mongodb+srv:']),
    description: 'MongoDB connection string (a replica set in production)',
    example: 'mongodb://127.0.0.1:27017/scrm',
  },
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: {
    schema: intIn(100, 120_000).default(3000),
    description: 'How long a MongoDB operation waits for a server before failing fast (ms)',
    example: '3000',
  },
  WECOM_API_BASE: {
    schema: url(['https:', 'http:']).default('https://qyapi.weixin.qq.com'),
    description: 'WeCom server API base URL; point it at the WeCom sandbox in development',
    example: 'https://qyapi.weixin.qq.com',
  },
  WECOM_OAUTH_BASE: {
    schema: url(['https:', 'http:']).default('https://open.weixin.qq.com'),
    description:
      'Base URL of WeCom web sign-in inside the WeCom client (/connect/oauth2/authorize); point it at the WeCom sandbox in development',
    example: 'https://open.weixin.qq.com',
  },
  WECOM_QR_LOGIN_BASE: {
    schema: url(['https:', 'http:']).default('https://login.work.weixin.qq.com'),
    description:
      'Base URL of WeCom desktop QR sign-in (/wwlogin/sso/login) used by the console; point it at the WeCom sandbox in development',
    example: 'https://login.work.weixin.qq.com',
  },
  WECOM_TIMEOUT_MS: {
    schema: intIn(100, 60_000).default(5000),
    description: 'Timeout of one WeCom API call (ms)',
    example: '5000',
  },
  DEFAULT_TIMEZONE: {
    schema: z
      .string()
      .refine(isTimeZone, { error: 'must be an IANA time zone such as Asia/Shanghai' })
      .default('Asia/Shanghai'),
    description: 'Time zone for business times of corps that set none (quiet hours, "10:00 local")',
    example: 'Asia/Shanghai',
  },
  PUBLIC_BASE_URL: {
    schema: url(['https:', 'http:']).optional(),
    description:
      'Where people and WeCom reach this bot (card links, sign-in redirects); required in production, defaults to http://localhost:PORT elsewhere',
    example: 'https://scrm.example-dealer.cn',
  },
  DATA_KEYS: {
    schema: dataKeys,
    description:
      'Encryption keys for personal data and corp secrets: keyId:base64(32 bytes), comma-separated, so keys can rotate',
    example: 'k1:<openssl rand -base64 32>',
    secret: true,
  },
  DATA_KEY_ACTIVE_ID: {
    schema: z.string().optional(),
    description: 'Which DATA_KEYS id encrypts new data (default: the last one listed); older ids keep decrypting',
    example: 'k1',
  },
  LOOKUP_HMAC_KEY: {
    schema: base64Key(32),
    description:
      'HMAC key for exact-match look-ups of encrypted personal data (name, remark, mobile); never rotate without re-indexing',
    example: '<openssl rand -base64 32>',
    secret: true,
  },
  BOOTSTRAP_API_TOKEN: {
    schema: z.string().min(32, { error: 'must be at least 32 characters (openssl rand -hex 24)' }).optional(),
    description:
      'Optional admin bearer token for first-run access before any API token exists; remove once real tokens are issued',
    example: '<openssl rand -hex 24>',
    secret: true,
  },
  CALLBACK_TIMESTAMP_WINDOW_S: {
    schema: intIn(0, 86_400).default(300),
    description:
      'Callbacks whose timestamp is further than this from now are refused with 401 (s; 0 disables the check)',
    example: '300',
  },
  CALLBACK_DEDUP_TTL_S: {
    schema: intIn(3600, 30 * 86_400).default(86_400),
    description:
      'How long a callback de-duplication mark lives (s, at least 3600: longer than any WeCom retry or replay window)',
    example: '86400',
  },
  CALLBACK_ENQUEUE_TIMEOUT_MS: {
    schema: intIn(50, 10_000).default(1000),
    description: 'How long a callback waits for Redis to take its job before spooling it to disk (ms)',
    example: '1000',
  },
  SPOOL_PATH: {
    schema: z.string().min(1).default('./.data/spool'),
    description: 'Directory of the local callback spool used while Redis is unreachable (one per web instance)',
    example: './.data/spool',
  },
  SPOOL_MAX_BYTES: {
    schema: intIn(65_536, 2 ** 40).default(256 * 1024 * 1024),
    description:
      'Size limit of the callback spool (bytes); when full, callbacks are refused by closing the connection so WeCom retries',
    example: '268435456',
  },
  CORPS_FILE: {
    schema: z.string().min(1).optional(),
    description: 'Optional JSON file of corps (dealer and OEM WeCom corps) applied at boot as an idempotent upsert',
    example: './config/corps.json',
  },
  CORPS_REFRESH_S: {
    schema: intIn(1, 86_400).default(60),
    description:
      'Period of the corp cache refresh in web and worker, on top of the immediate Redis pub/sub notification (s)',
    example: '60',
  },
  ALERT_WECOM_CORP_ID: {
    schema: z.string().min(1).optional(),
    description:
      'Corp (from the corps collection) whose app sends operator alerts as WeCom messages; unset = alerts are log lines only',
    example: 'ww00000000oem00001',
  },
  ALERT_USERIDS: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]+(,[A-Za-z0-9_.@-]+)*$/, { error: 'must be comma-separated WeCom user ids' })
      .optional(),
    description: 'WeCom user ids (comma-separated) of the operators who receive alert messages',
    example: 'ops.alice,ops.bob',
  },
  ALERT_MIN_INTERVAL_S: {
    schema: intIn(1, 86_400).default(600),
    description: 'The same alert (kind and subject) is raised at most once per this interval (s)',
    example: '600',
  },
  QUEUE_AGE_ALERT_S: {
    schema: intIn(10, 86_400).default(300),
    description: 'Alert when the oldest waiting job of a queue is older than this (s)',
    example: '300',
  },
  API_RATE_LIMIT_PER_MINUTE: {
    schema: intIn(1, 1_000_000).default(300),
    description: 'Admin API requests per token per minute; more get 429 with Retry-After',
    example: '300',
  },
  PUBLIC_RATE_LIMIT_PER_MINUTE: {
    schema: intIn(1, 1_000_000).default(120),
    description:
      'Requests per client IP per minute to endpoints that need no sign-in (console sign-in, openapi.json); more get 429 with Retry-After. A dealership behind one NAT address shares it',
    example: '120',
  },
  AUTH_FAILURES_PER_MINUTE: {
    schema: intIn(1, 1_000_000).default(10),
    description:
      'Failed authentications (bad API token, bad or expired console session) per client IP per minute; after that every authenticated request from the IP gets 429 until the minute ends',
    example: '10',
  },
  TRUST_PROXY: {
    schema: intIn(0, 10).default(0),
    description:
      'How many reverse proxies in front of the web process append to X-Forwarded-For; 0 = trust none and use the socket address as the client IP (rate limits key on it)',
    example: '0',
  },
  QUEUE_DASHBOARD: {
    schema: z.enum(['off', 'read-only', 'operate']).default('read-only'),
    description:
      'The BullMQ dashboard at /admin/queues for console admins: off, read-only (default), or operate (also retry, clean, promote, pause and resume; never add or edit jobs)',
    example: 'read-only',
  },
  OPS_TOKEN: {
    schema: z.string().min(32, { error: 'must be at least 32 characters (openssl rand -hex 24)' }).optional(),
    description:
      'Bearer token for /metrics and the details of /readyz on the web port; unset in production = /metrics refused there and /readyz answers its status only (status codes unchanged; the worker health port is internal and unaffected)',
    example: '<openssl rand -hex 24>',
    secret: true,
  },
  REDIS_PASSWORD: {
    schema: z.string().min(1).optional(),
    description:
      'Redis AUTH password for every connection, unless REDIS_URL already carries one (redis://:password@host or redis://user:password@host)',
    example: '<openssl rand -hex 24>',
    secret: true,
  },
  REDIS_TLS_CA_FILE: {
    schema: z.string().min(1).optional(),
    description: 'PEM file of the CA that signed the Redis server certificate, for rediss:// URLs with a private CA',
    example: './config/redis-ca.pem',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: intIn(1000, 120_000).default(10_000),
    description: 'Graceful shutdown budget before a forced exit (ms)',
    example: '10000',
  },
} satisfies Record<string, EnvVar>;

export type EnvVarName = keyof typeof envVars;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
