import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/index.js';
import type { Corp } from '../domain/corps/corp.types.js';
import type { Alerter } from '../infra/alerts.js';
import type { Clock } from '../infra/clock.js';
import type { DataCipher } from '../infra/data-crypto.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { pingRedis } from '../infra/redis.js';
import { Spool } from '../infra/spool.js';
import type { Queues } from '../queues/queue-factory.js';
import type { HealthCheck } from '../routes/health.routes.js';
import { DedupJobBatcher } from './dedup-job-batcher.js';
import { InboundAcceptor, type SpoolEntry } from './inbound-acceptor.js';
import { InboundProducer } from './inbound.producer.js';
import { selectJobWriter, type JobWriter, type JobWriterKind } from './job-writer.js';
import type { CallbackReceiverDeps } from './receive-callback.js';
import { SpoolRelay } from './spool-relay.js';
import { WelcomeLane } from './welcome-lane.js';

export interface IngestDeps {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  /** Producer-role connection (fails fast). */
  redis: Redis;
  queues: Queues;
  metrics: Metrics;
  cipher: DataCipher;
  corps: { get(corpId: string): Corp | undefined; readonly loaded: boolean; status?(): Record<string, unknown> };
  alerts?: Alerter;
  /** Overrides the choice of selectJobWriter (job-writer.ts); tests use it. */
  jobWriter?: JobWriter;
}

/** The assembled callback front door: the receiver's wiring, spool and relay, readiness check. */
export interface Ingest {
  /**
   * What receiveCallback needs, wired (receive-callback.ts); the web process serves it through the
   * HTTP adapter: `createWebServer(app, [createCallbackRoute({ ...ingest.receiver, metrics, logger })])`.
   */
  receiver: CallbackReceiverDeps;
  spool: Spool<SpoolEntry>;
  relay: SpoolRelay;
  producer: InboundProducer;
  /** Which job writer is in use (job-writer.ts); also on readiness and the `scrm_ingest_job_writer` metric. */
  jobWriter: JobWriterKind;
  /** Ready = (Redis reachable OR spool writable) AND corps loaded; reports spool depth (docs/architecture.md §3). */
  health: HealthCheck;
  stop(): Promise<void>;
}

/** Wires the ingestion path from config; used by src/main.ts, tests and the benchmark. */
export async function createIngest(deps: IngestDeps): Promise<Ingest> {
  const { config, logger, redis, metrics } = deps;
  const spool = await new Spool<SpoolEntry>({
    dir: config.spool.path,
    maxBytes: config.spool.maxBytes,
    cipher: deps.cipher,
    logger,
  }).init();
  // One batcher for both queues: an add event's welcome and inbound jobs share one script call.
  const jobWriter = deps.jobWriter ?? selectJobWriter({ logger });
  metrics.jobWriter.labels(jobWriter.kind).set(1);
  const batcher = new DedupJobBatcher({ timeoutMs: config.callbacks.enqueueTimeoutMs, jobWriter });
  const producer = new InboundProducer(deps.queues, config.callbacks.dedupTtlS * 1000, batcher);
  const acceptor = new InboundAcceptor({ producer, spool, redis, logger });
  const relay = new SpoolRelay({ spool, producer, redis, logger, metrics }).start();
  const welcomeLane = new WelcomeLane({ queues: deps.queues });
  const receiver: CallbackReceiverDeps = {
    corps: deps.corps,
    acceptor,
    cipher: deps.cipher,
    welcomeLane,
    clock: deps.clock,
    timestampWindowS: config.callbacks.timestampWindowS,
    alerts: deps.alerts,
  };
  metrics.spoolDepth.set(spool.depth);
  const health: HealthCheck = {
    name: 'ingest',
    critical: true,
    check: async () => {
      const [redisUp, spoolWritable] = await Promise.all([pingRedis(redis), spool.writable()]);
      metrics.spoolDepth.set(spool.depth);
      return {
        ok: (redisUp || spoolWritable) && deps.corps.loaded,
        detail: {
          redis: redisUp,
          jobWriter: jobWriter.kind,
          spoolWritable,
          spoolDepth: spool.depth,
          spoolBytes: spool.bytes,
          corps: deps.corps.status?.() ?? { loaded: deps.corps.loaded },
        },
      };
    },
  };
  return {
    receiver,
    spool,
    relay,
    producer,
    jobWriter: jobWriter.kind,
    health,
    async stop() {
      relay.stop();
      await spool.close();
    },
  };
}
