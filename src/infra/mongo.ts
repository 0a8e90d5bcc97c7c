import mongoose from 'mongoose';
import type { Logger } from './logger.js';
import { redactUrl } from './redis.js';

// Fail fast instead of queueing operations while MongoDB is away (docs/architecture.md §3: a Mongo outage
// delays processing; it must not hang requests or workers).
mongoose.set('bufferCommands', false);
mongoose.set('strictQuery', true);

/**
 * MongoDB is the system of record, and production runs a replica set (docs/scale.md, "MongoDB"):
 * a write counts once a majority of the members has it (a primary election cannot roll it back),
 * reads go to the primary (they must see those writes), and the driver retries a write or read
 * once across an election. These override what a URI says, so no deployment runs with less.
 */
export const SYSTEM_OF_RECORD_OPTIONS = {
  writeConcern: { w: 'majority' as const },
  retryWrites: true,
  retryReads: true,
  readPreference: 'primary' as const,
};

export interface MongoSettings {
  uri: string;
  serverSelectionTimeoutMs: number;
  logger: Logger;
}

/** Connects the default mongoose connection once; throws a message naming where MongoDB was expected. */
export async function connectMongo({ uri, serverSelectionTimeoutMs, logger }: MongoSettings): Promise<typeof mongoose> {
  try {
    await mongoose.connect(uri, {
      ...SYSTEM_OF_RECORD_OPTIONS,
      serverSelectionTimeoutMS: serverSelectionTimeoutMs,
      autoIndex: true,
      autoCreate: true,
    });
  } catch (err) {
    throw new Error(`MongoDB at ${redactUrl(uri)} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  logger.info({ mongo: redactUrl(uri) }, 'connected to MongoDB');
  await ensureModelIndexes(logger);
  return mongoose;
}

/**
 * Builds the indexes of every model this process has registered (docs/architecture.md §13.5: the
 * unique keys are what make retried work idempotent). mongoose's own `autoIndex` starts when a
 * model is compiled, i.e. at import, before the connection exists; with `bufferCommands` off that
 * attempt fails without a word, so without this no process ever built an index. `createIndexes`
 * leaves an index that exists alone, so every instance may run it at every start. A failure (a
 * unique index over data that breaks it) is logged per model and does not stop the process: the
 * other models' indexes still matter, and the log names what to repair.
 */
export async function ensureModelIndexes(logger: Pick<Logger, 'error'>): Promise<void> {
  await Promise.all(
    Object.values(mongoose.models).map((model) =>
      model.createIndexes().catch((err: unknown) => {
        logger.error({ model: model.modelName, err: (err as Error).message }, 'MongoDB index build failed');
      }),
    ),
  );
}

/**
 * Keeps trying to connect with capped exponential backoff until it succeeds or `signal` aborts.
 * Used by processes that must start while MongoDB is down.
 */
export async function connectMongoWithRetry(settings: MongoSettings, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await connectMongo(settings);
      return true;
    } catch (err) {
      const delay = Math.min(500 * 2 ** attempt, 15_000);
      settings.logger.error({ err: (err as Error).message, retryInMs: delay }, 'MongoDB unreachable, retrying');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }
  return false;
}

/** True when the default connection answers a ping within the timeout. */
export async function pingMongo(timeoutMs = 1000): Promise<boolean> {
  const db = mongoose.connection.db;
  if (mongoose.connection.readyState !== 1 || !db) return false;
  try {
    await db.command({ ping: 1 }, { timeoutMS: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

export async function disconnectMongo(): Promise<void> {
  await mongoose.disconnect();
}
