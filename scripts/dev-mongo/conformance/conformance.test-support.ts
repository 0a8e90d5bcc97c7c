import { randomBytes } from 'node:crypto';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll } from 'vitest';
import { startDevMongo, type DevMongoServer } from '../index.js';

/** The server under test: a real MongoDB when MONGODB_URI is set, else a fresh dev server. */
export interface Target {
  uri: string;
  dbName: string;
  client: MongoClient;
  db: Db;
  /** True against a real MongoDB (used only for timeouts, never to change assertions). */
  real: boolean;
  close(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Base URI with the database name appended (keeps query options of MONGODB_URI). */
export function withDb(uri: string, dbName: string): string {
  const u = new URL(uri);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** Opens a target with a random database name for one test file. */
export async function openTarget(label: string, clientOptions: MongoClientOptions = {}): Promise<Target> {
  const external = process.env.MONGODB_URI;
  let server: DevMongoServer | undefined;
  const uri = external ?? (server = await startDevMongo({ logger: silent, ttlMonitorIntervalMs: 100 })).uri;
  const dbName = `conf_${label}_${randomBytes(4).toString('hex')}`;
  const client = await MongoClient.connect(withDb(uri, dbName), { serverSelectionTimeoutMS: 5000, ...clientOptions });
  const db = client.db(dbName);
  return {
    uri,
    dbName,
    client,
    db,
    real: external !== undefined,
    close: async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
      await server?.stop();
    },
  };
}

/** Polls until `check` returns true or the deadline passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/**
 * The set-up of a file that runs mongoose against a target: in `beforeAll` the target and a
 * mongoose connection to its database (then `ready` gets both); in `afterAll` both close.
 */
export function useMongooseTarget(label: string, ready: (target: Target, conn: mongoose.Connection) => void): void {
  let target: Target | undefined;
  let conn: mongoose.Connection | undefined;
  beforeAll(async () => {
    target = await openTarget(label);
    conn = await mongoose.createConnection(withDb(target.uri, target.dbName)).asPromise();
    ready(target, conn);
  });
  afterAll(async () => {
    await conn?.close();
    await target?.close();
  });
}
