import { mkdir, writeFile } from 'node:fs/promises';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { startDevMongo } from './index.js';

/** `npm run bench:dev-mongo`: throughput and indexed-query latency of the dev server. */
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const BATCH = 1000;

function scheduleDoc(i: number, base: number): Document {
  return {
    taskId: `t${i}`,
    corpId: `corp${i % 50}`,
    status: i % 4 === 0 ? 'done' : 'pending',
    dueAt: new Date(base + (i % 10_000) * 60_000),
    note: 'follow up',
  };
}

async function fill(c: Collection, from: number, to: number, base: number): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < to; i += BATCH) {
    await c.insertMany(
      Array.from({ length: Math.min(BATCH, to - i) }, (_, j) => scheduleDoc(i + j, base)),
      { ordered: false },
    );
  }
  return ((to - from) / (performance.now() - t0)) * 1000;
}

async function findLatency(
  c: Collection,
  base: number,
  runs = 200,
): Promise<{ meanMs: number; p95Ms: number; docs: number }> /* docs = mean result size */ {
  const times: number[] = [];
  let docs = 0;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const found = await c
      .find({ corpId: `corp${k % 50}`, status: 'pending', dueAt: { $lte: new Date(base + 1000 * 60_000) } })
      .toArray();
    times.push(performance.now() - t0);
    docs += found.length;
  }
  times.sort((a, b) => a - b);
  return {
    meanMs: times.reduce((a, b) => a + b, 0) / runs,
    p95Ms: times[Math.floor(runs * 0.95)] ?? 0,
    docs: Math.round(docs / runs),
  };
}

async function insertOneCost(c: Collection, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.insertOne({ email: `u${i}@x.io`, n: i });
  return ((performance.now() - t0) / n) * 1000;
}

async function main(): Promise<void> {
  const server = await startDevMongo({ logger: silent });
  const client = await MongoClient.connect(server.uri);
  const db = client.db('bench');
  const base = Date.UTC(2025, 0, 1);
  const schedules = db.collection('schedules');
  await schedules.createIndex({ corpId: 1, status: 1, dueAt: 1 });
  await schedules.createIndex({ taskId: 1 }, { unique: true });

  await fill(schedules, 0, 10_000, base);
  const at10k = await findLatency(schedules, base);
  const insertsPerSec = await fill(schedules, 10_000, 200_000, base);
  const at200k = await findLatency(schedules, base);

  const plain = db.collection('plain');
  const unique = db.collection('unique');
  await unique.createIndex({ email: 1 }, { unique: true });
  await plain.insertOne({ warm: true });
  await unique.insertOne({ warm: true, email: 'warm' });
  await insertOneCost(db.collection('warmup'), 2000);
  const plainUs = await insertOneCost(plain, 3000);
  const uniqueUs = await insertOneCost(unique, 3000);

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    insertsPerSec: Math.round(insertsPerSec),
    indexedFind: { at10k, at200k },
    insertOneUs: {
      noUniqueIndex: Math.round(plainUs),
      withUniqueIndex: Math.round(uniqueUs),
      uniqueCostUs: Math.round(uniqueUs - plainUs),
    },
  };
  console.table([
    { metric: 'insertMany throughput (docs/s, 2 indexes)', value: results.insertsPerSec },
    { metric: 'indexed find @10k docs: mean ms', value: at10k.meanMs.toFixed(2) },
    { metric: 'indexed find @10k docs: p95 ms', value: at10k.p95Ms.toFixed(2) },
    { metric: 'indexed find @200k docs: mean ms', value: at200k.meanMs.toFixed(2) },
    { metric: 'indexed find @200k docs: p95 ms', value: at200k.p95Ms.toFixed(2) },
    { metric: 'insertOne round trip, no unique index (µs)', value: results.insertOneUs.noUniqueIndex },
    { metric: 'insertOne round trip, unique index (µs)', value: results.insertOneUs.withUniqueIndex },
    { metric: 'unique-index cost per insert (µs)', value: results.insertOneUs.uniqueCostUs },
  ]);
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/dev-mongo.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote bench-results/dev-mongo.json');
  await client.close();
  await server.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
