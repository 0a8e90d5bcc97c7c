import { CursorRegistry } from './cursors.js';
import { createDispatcher } from './dispatcher.js';
import { stderrLogger, type DevMongoLogger } from './logger.js';
import { loadSnapshot, saveSnapshot } from './persistence.js';
import { listen } from './server.js';
import { Store } from './storage.js';
import { TransactionRegistry } from './transactions.js';
import { reapExpired } from './ttl.js';

export interface DevMongoOptions {
  port?: number;
  host?: string;
  logCommands?: boolean;
  /** Called with every command received (its body and database), before it runs; tests audit queries with it. */
  onCommand?: (command: Record<string, unknown>, db: string) => void;
  dataFile?: string;
  logger?: {
    info(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
  };
  /** How often the TTL reaper runs (mongod: 60 s). Tests set it low. */
  ttlMonitorIntervalMs?: number;
  /** How often the data file is snapshotted while running (default 60 s). */
  snapshotIntervalMs?: number;
}

export interface DevMongoServer {
  uri: string;
  port: number;
  stop(): Promise<void>;
  reset(): Promise<void>;
}

/**
 * Starts the MongoDB-wire-compatible development/test server (not MongoDB) on
 * `host:port` (ephemeral when the port is 0 or omitted). Refuses to run in production.
 */
export async function startDevMongo(options: DevMongoOptions = {}): Promise<DevMongoServer> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error(
      'dev-mongo is a development/test server and refuses to start with NODE_ENV=production; use a real MongoDB',
    );
  }
  const logger: DevMongoLogger = options.logger ?? stderrLogger;
  const host = options.host ?? '127.0.0.1';
  logger.info(
    { host, port: options.port ?? 0 },
    'dev-mongo: development/test server, NOT MongoDB (in-memory, no isolation, no durability guarantees)',
  );
  const store = new Store();
  const cursors = new CursorRegistry();
  const txns = new TransactionRegistry(store.journal);
  if (options.dataFile) {
    const n = await loadSnapshot(store, options.dataFile);
    logger.info({ dataFile: options.dataFile, documents: n }, 'dev-mongo: snapshot loaded');
  }
  const dispatch = createDispatcher({
    store,
    cursors,
    txns,
    logger,
    logCommands: options.logCommands === true,
    ...(options.onCommand ? { onCommand: options.onCommand } : {}),
  });
  const server = await listen(host, options.port ?? 0, dispatch, logger, {
    opened: (id) => txns.connectionOpened(id),
    closed: (id) => txns.connectionClosed(id),
  });

  const ttlTimer = setInterval(() => {
    try {
      reapExpired(store);
      cursors.sweep();
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'dev-mongo: TTL reaper failed');
    }
  }, options.ttlMonitorIntervalMs ?? 60_000);
  ttlTimer.unref();

  // One snapshot at a time: two writes of the same temporary file racing could leave the older
  // one in place, losing writes the final snapshot had (docs/dev-mongo.md, "Persistence").
  let writing: Promise<void> = Promise.resolve();
  const snapshot = (final: boolean): Promise<void> => {
    writing = writing.then(() => writeSnapshot(final));
    return writing;
  };
  const writeSnapshot = async (final: boolean): Promise<void> => {
    if (!options.dataFile) return;
    try {
      const n = await saveSnapshot(store, options.dataFile);
      // The periodic one is routine; the final one tells the person at Ctrl-C their data is safe.
      if (final) logger.info({ dataFile: options.dataFile, documents: n }, 'dev-mongo: snapshot written');
      else logger.debug?.({ dataFile: options.dataFile, documents: n }, 'dev-mongo: snapshot written');
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'dev-mongo: snapshot failed');
    }
  };
  const snapshotTimer = options.dataFile
    ? setInterval(() => void snapshot(false), options.snapshotIntervalMs ?? 60_000)
    : undefined;
  snapshotTimer?.unref();

  let stopped: Promise<void> | undefined;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    uri: `mongodb://${urlHost}:${server.port}`,
    port: server.port,
    stop: () => {
      stopped ??= (async () => {
        clearInterval(ttlTimer);
        if (snapshotTimer) clearInterval(snapshotTimer);
        await server.close();
        // Transactions still open die with their clients; none of their writes may be saved.
        txns.abortAll();
        await snapshot(true);
        cursors.clear();
      })();
      return stopped;
    },
    reset: async () => {
      store.reset();
      cursors.clear();
      txns.clear();
    },
  };
}
