/**
 * `npm run bench:import`: imports a generated 10,000-row DMS CSV with 3% bad rows through the real
 * CLI (`scripts/import-vehicles.ts`, against the dev MongoDB server and a private Redis), then
 * imports it again. Prints the time, the summary and whether the re-import changed and emitted
 * nothing; writes bench-results/import.json. Target: under a minute on this machine.
 * A benchmark, not a test (docs/architecture.md §13.12). Env: BENCH_ROWS (10000).
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { startDevMongo } from '../dev-mongo/index.js';
import { CorpModel } from '../../src/domain/corps/corp.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { corpSecretContext } from '../../src/domain/privacy/key-rotation.service.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { loadConfig } from '../../config/index.js';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { Redis } from 'ioredis';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const CORP = 'wwbenchdealer00001';

async function main(): Promise<void> {
  const [redis, mongo] = await Promise.all([startPrivateRedis(), startDevMongo({ port: 0 })]);
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    MONGODB_URI: `${mongo.uri}/bench`,
    QUEUE_PREFIX: 'bench',
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
    ENV_FILE: '/nonexistent',
  };
  const config = loadConfig(env);
  const pd = PersonalData.fromConfig(config);
  await mongoose.connect(config.mongo.uri);
  await Promise.all([CorpModel.init(), CustomerModel.init(), RelationshipModel.init()]);
  await CorpModel.create({
    corpId: CORP,
    kind: 'dealer',
    displayName: 'bench',
    agentId: 1,
    secretSealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'secretSealed')),
    callbackTokenSealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'callbackTokenSealed')),
    callbackAesKeySealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'callbackAesKeySealed')),
    timezone: 'Asia/Shanghai',
  });
  // Half of the rows belong to known customers, found by remark mobile through the keyed hash.
  const known = Math.floor(ROWS / 2);
  const customers = await CustomerModel.insertMany(
    Array.from({ length: known }, (_, i) => ({
      corpId: CORP,
      externalUserId: `wmBench${String(i).padStart(12, '0')}`,
    })),
  );
  await RelationshipModel.insertMany(
    customers.map((c, i) => ({
      corpId: CORP,
      userid: 'advisor1',
      externalUserId: c.externalUserId,
      customerId: c._id,
      remarkMobileHashes: [pd.hash('mobile', mobile(i))],
    })),
  );
  await mongoose.disconnect();

  const dir = mkdtempSync(join(tmpdir(), 'scrm-import-'));
  const file = join(dir, 'vehicles.csv');
  const lines = ['vin,model,delivery_date,mileage_km,mobile,sales_userid,birthday'];
  let bad = 0;
  for (let i = 0; i < ROWS; i++) {
    const broken = i % 33 === 7; // ~3% bad rows
    if (broken) bad++;
    const vin = broken ? `BADVIN${i}` : `LBENCH${String(i).padStart(11, '0')}`;
    lines.push(
      [
        vin,
        i % 2 ? '星途瑶光' : '星途揽月',
        `2025-${String((i % 12) + 1).padStart(2, '0')}-15`,
        String(1000 + i),
        i < known ? mobile(i) : '',
        'advisor1',
        i < known && i % 5 === 0 ? '1988-06-01' : '',
      ].join(','),
    );
  }
  writeFileSync(file, lines.join('\n'));

  // Async spawn: the dev MongoDB server runs in this process and must keep answering.
  const run = async (label: string) => {
    const started = process.hrtime.bigint();
    const res = await runCli(
      [
        '--import',
        'tsx',
        'scripts/import-vehicles.ts',
        '--corp',
        CORP,
        file,
        '--rejected',
        join(dir, `${label}.rejected.csv`),
      ],
      { ...process.env, ...env },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const summary = /rows (\d+): created (\d+), updated (\d+), unchanged (\d+), linked (\d+), rejected (\d+)/.exec(
      res.stdout,
    );
    if (!summary) throw new Error(`import did not print a summary (exit ${res.status}): ${res.stdout}\n${res.stderr}`);
    const [, rows, created, updated, unchanged, linked, rejected] = summary.map(Number);
    return {
      label,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(ROWS / seconds),
      rows,
      created,
      updated,
      unchanged,
      linked,
      rejected,
      exitCode: res.status,
    };
  };
  const probe = new Redis(redis.url);
  const first = await run('first');
  const eventsAfterFirst =
    (await probe.zcard('bench:domain-events:prioritized')) + (await probe.llen('bench:domain-events:wait'));
  const second = await run('again');
  const eventsAfterSecond =
    (await probe.zcard('bench:domain-events:prioritized')) + (await probe.llen('bench:domain-events:wait'));
  probe.disconnect();

  const results = {
    rows: ROWS,
    badRows: bad,
    first,
    second,
    eventsAfterFirst,
    eventsEmittedByReimport: eventsAfterSecond - eventsAfterFirst,
    targetSeconds: 60,
    meetsTarget: first.seconds < 60,
    reimportIsNoOp: second.created === 0 && second.updated === 0 && eventsAfterSecond === eventsAfterFirst,
  };
  console.table([first, second]);
  console.log(
    `bad rows planted ${bad}; domain events after first import ${eventsAfterFirst}, emitted by the re-import ${results.eventsEmittedByReimport}`,
  );
  console.log(
    `first import ${first.seconds} s (target < 60 s): ${results.meetsTarget ? 'met' : 'MISSED'}; re-import is a no-op: ${results.reimportIsNoOp}`,
  );
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/import.json', JSON.stringify(results, null, 2));
  await Promise.all([redis.stop(), mongo.stop()]);
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function mobile(i: number): string {
  return `139${String(i).padStart(8, '0')}`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
