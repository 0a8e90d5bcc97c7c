import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { QueueName } from '../src/queues/queue-names.js';
import { envVars, type EnvVarName } from './schema.js';

export { envVars } from './schema.js';

/** Thrown by loadConfig with every problem found, one per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly isProduction: boolean;
  readonly port: number;
  readonly workerHealthPort: number;
  /** The queues this worker process consumes (WORKER_QUEUES; all by default). */
  readonly workerQueues: readonly QueueName[];
  /** Whether an inbound job runs its callback's domain events itself (INLINE_DOMAIN_EVENTS; on by default). */
  readonly inlineDomainEvents: boolean;
  /** INBOUND_PARTITIONS: queues `wecom-inbound` is split into by corp (docs/scale.md, "Inbound partitions"). */
  readonly inboundPartitions: number;
  /** TEST_SCHEDULER_PATTERN: tests only, replaces every cron scheduler's pattern (jobs/schedulers.ts); never in production. */
  readonly testSchedulerPattern: string | undefined;
  readonly logLevel: string;
  /** `password` and `tlsCa` apply to every connection the bot opens (src/infra/redis.ts). */
  readonly redis: {
    readonly url: string;
    readonly mode: 'standalone' | 'cluster';
    readonly queuePrefix: string;
    readonly password: string | undefined;
    readonly tlsCa: Buffer | undefined;
  };
  readonly mongo: { readonly uri: string; readonly serverSelectionTimeoutMs: number };
  readonly wecom: {
    readonly apiBase: string;
    readonly timeoutMs: number;
    readonly oauthBase: string;
    readonly qrLoginBase: string;
  };
  readonly defaultTimezone: string;
  readonly publicBaseUrl: string;
  readonly dataKeys: { readonly keys: ReadonlyMap<string, Buffer>; readonly activeId: string };
  readonly lookupHmacKey: Buffer;
  readonly bootstrapApiToken: string | undefined;
  readonly shutdownTimeoutMs: number;
  readonly api: {
    readonly rateLimitPerMinute: number;
    readonly publicRateLimitPerMinute: number;
    readonly authFailuresPerMinute: number;
  };
  /** Reverse proxies trusted to append X-Forwarded-For (0 = none). */
  readonly trustProxy: number;
  readonly queueDashboard: 'off' | 'read-only' | 'operate';
  readonly opsToken: string | undefined;
  readonly callbacks: {
    readonly timestampWindowS: number;
    readonly dedupTtlS: number;
    readonly enqueueTimeoutMs: number;
  };
  readonly spool: { readonly path: string; readonly maxBytes: number };
  readonly corps: { readonly file: string | undefined; readonly refreshS: number };
  readonly alerts: {
    readonly wecomCorpId: string | undefined;
    readonly userIds: readonly string[];
    readonly minIntervalS: number;
    readonly queueAgeS: number;
  };
}

const shape = Object.fromEntries(Object.entries(envVars).map(([name, spec]) => [name, spec.schema])) as {
  [K in EnvVarName]: (typeof envVars)[K]['schema'];
};
const envSchema = z.object(shape);

/**
 * Parses the environment synchronously. Lists every problem in one ConfigError
 * (`REDIS_URL: required; PORT: must be an integer 1-65535`) and returns a frozen object.
 * Empty strings count as unset, so `FOO=` in an env file does not smuggle in an empty secret.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const input: Record<string, string> = {};
  for (const name of Object.keys(envVars)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const problems: string[] = [];
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      problems.push(`${name}: ${input[name] === undefined ? 'required' : issue.message}`);
    }
    throw new ConfigError(dedupe(problems));
  }
  const v = parsed.data;
  if (v.NODE_ENV === 'production' && !v.PUBLIC_BASE_URL) problems.push('PUBLIC_BASE_URL: required in production');
  if (v.NODE_ENV === 'production' && v.TEST_SCHEDULER_PATTERN)
    problems.push(
      'TEST_SCHEDULER_PATTERN: refused in production (it makes the daily and hourly jobs run on a test period); unset it',
    );
  const keyIds = [...v.DATA_KEYS.keys()];
  const activeId = v.DATA_KEY_ACTIVE_ID ?? keyIds[keyIds.length - 1] ?? '';
  if (!v.DATA_KEYS.has(activeId))
    problems.push(`DATA_KEY_ACTIVE_ID: "${activeId}" is not one of the DATA_KEYS ids (${keyIds.join(', ')})`);
  if (v.ALERT_WECOM_CORP_ID && !v.ALERT_USERIDS)
    problems.push('ALERT_USERIDS: required when ALERT_WECOM_CORP_ID is set (who receives the alerts)');
  let tlsCa: Buffer | undefined;
  if (v.REDIS_TLS_CA_FILE) {
    try {
      tlsCa = readFileSync(v.REDIS_TLS_CA_FILE);
    } catch (err) {
      problems.push(
        `REDIS_TLS_CA_FILE: cannot read ${v.REDIS_TLS_CA_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    if (!v.REDIS_URL.startsWith('rediss:')) problems.push('REDIS_TLS_CA_FILE: only used with a rediss:// REDIS_URL');
  }
  if (v.REDIS_MODE === 'standalone' && v.REDIS_URL.includes(','))
    problems.push('REDIS_URL: lists several URLs; set REDIS_MODE=cluster for a Redis Cluster, or give one URL');
  if (v.REDIS_MODE === 'cluster' && /[{}]/.test(v.QUEUE_PREFIX))
    problems.push(
      'QUEUE_PREFIX: must not contain { or } with REDIS_MODE=cluster (it would put every queue in one hash slot; each queue carries its own hash tag there)',
    );
  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({
    env: v.NODE_ENV,
    isProduction: v.NODE_ENV === 'production',
    port: v.PORT,
    workerHealthPort: v.WORKER_HEALTH_PORT,
    workerQueues: v.WORKER_QUEUES,
    inlineDomainEvents: v.INLINE_DOMAIN_EVENTS === 1,
    inboundPartitions: v.INBOUND_PARTITIONS,
    testSchedulerPattern: v.TEST_SCHEDULER_PATTERN,
    logLevel: v.LOG_LEVEL,
    redis: { url: v.REDIS_URL, mode: v.REDIS_MODE, queuePrefix: v.QUEUE_PREFIX, password: v.REDIS_PASSWORD, tlsCa },
    mongo: { uri: v.MONGODB_URI, serverSelectionTimeoutMs: v.MONGODB_SERVER_SELECTION_TIMEOUT_MS },
    wecom: {
      apiBase: v.WECOM_API_BASE.replace(/\/+$/, ''),
      timeoutMs: v.WECOM_TIMEOUT_MS,
      oauthBase: v.WECOM_OAUTH_BASE.replace(/\/+$/, ''),
      qrLoginBase: v.WECOM_QR_LOGIN_BASE.replace(/\/+$/, ''),
    },
    defaultTimezone: v.DEFAULT_TIMEZONE,
    publicBaseUrl: (v.PUBLIC_BASE_URL ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ''),
    dataKeys: { keys: v.DATA_KEYS, activeId },
    lookupHmacKey: Buffer.from(v.LOOKUP_HMAC_KEY, 'base64'),
    bootstrapApiToken: v.BOOTSTRAP_API_TOKEN,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    api: {
      rateLimitPerMinute: v.API_RATE_LIMIT_PER_MINUTE,
      publicRateLimitPerMinute: v.PUBLIC_RATE_LIMIT_PER_MINUTE,
      authFailuresPerMinute: v.AUTH_FAILURES_PER_MINUTE,
    },
    trustProxy: v.TRUST_PROXY,
    queueDashboard: v.QUEUE_DASHBOARD,
    opsToken: v.OPS_TOKEN,
    callbacks: {
      timestampWindowS: v.CALLBACK_TIMESTAMP_WINDOW_S,
      dedupTtlS: v.CALLBACK_DEDUP_TTL_S,
      enqueueTimeoutMs: v.CALLBACK_ENQUEUE_TIMEOUT_MS,
    },
    spool: { path: v.SPOOL_PATH, maxBytes: v.SPOOL_MAX_BYTES },
    corps: { file: v.CORPS_FILE, refreshS: v.CORPS_REFRESH_S },
    alerts: {
      wecomCorpId: v.ALERT_WECOM_CORP_ID,
      userIds: (v.ALERT_USERIDS ?? '').split(',').filter(Boolean),
      minIntervalS: v.ALERT_MIN_INTERVAL_S,
      queueAgeS: v.QUEUE_AGE_ALERT_S,
    },
  });
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Map) && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
