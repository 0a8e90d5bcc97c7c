/**
 * `npm run bench:leads`: 10,000 leads arriving within one minute for one dealer with 50 advisors on
 * shift, through the one intake (`ingestLeads`: de-duplication, sealing, routing, the card job),
 * against the dev MongoDB server (in a process of its own, as a real MongoDB would run) and a
 * private Redis. Each lead is one call made at its arrival time (open loop). Prints routing
 * throughput, the fairness of the split (max/min leads per eligible advisor, target within 10 %),
 * arrival → card-job latency (p50/p99, target p99 under 5 s) and MongoDB commands per lead;
 * writes bench-results/leads.json. The card's WeCom send follows
 * on the `scheduled` queue (one `message/send` per lead, inside WeCom's per-member limits).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import {
  acquisitionSettingsSchema,
  saveAcquisitionSettings,
} from '../../src/domain/acquisition/acquisition-settings.js';
import { leadCounts } from '../../src/domain/acquisition/lead-counters.js';
import { ingestLeads } from '../../src/domain/acquisition/lead-intake.js';
import { LeadModel } from '../../src/domain/acquisition/lead.model.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { defaultTaskSettings } from '../../src/domain/tasks/task-settings.js';
import { ManualClock } from '../../src/infra/clock.js';
import { DataCipher, LookupHasher } from '../../src/infra/data-crypto.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { percentile, round1, round2 } from './stats.js';

const LEADS = Number(process.env.BENCH_LEADS ?? 10_000);
const ADVISORS = 50;
const WINDOW_MS = 60_000;
const CORP = 'wwbenchleads000001';

/** CPU seconds so far of this process (the intake), the dev MongoDB server and Redis. */
async function cpuSeconds(mongoPid: number | undefined, redis: Redis) {
  const own = process.cpuUsage();
  let mongo: number;
  try {
    const stat = readFileSync(`/proc/${mongoPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    mongo = (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    mongo = 0;
  }
  const info = await redis.info('cpu');
  const used = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return { intake: (own.user + own.system) / 1e6, mongo, redis: used('used_cpu_sys') + used('used_cpu_user') };
}

async function main(): Promise<void> {
  const [redisServer, mongo] = await Promise.all([startPrivateRedis(), startDevMongoProcess()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const queues = new Queues(redis, 'bench');
  await mongoose.connect(`${mongo.uri}/bench-leads`, { monitorCommands: true });
  // Profile: MongoDB commands per lead, by command name (the intake's cost is round trips).
  const commands = new Map<string, number>();
  let counting = false;
  mongoose.connection.getClient().on('commandStarted', (e: { commandName: string }) => {
    if (counting) commands.set(e.commandName, (commands.get(e.commandName) ?? 0) + 1);
  });
  await Promise.all([LeadModel.syncIndexes(), AdvisorModel.syncIndexes()]);
  try {
    await AdvisorModel.insertMany(
      Array.from({ length: ADVISORS }, (_, i) => ({
        corpId: CORP,
        userid: `adv${String(i).padStart(2, '0')}`,
        name: `顾问${i}`,
        departments: [2],
        status: 'active',
      })),
    );
    await saveAcquisitionSettings(
      CORP,
      acquisitionSettingsSchema.parse({ defaultLeadCap: 10_000, rules: [{ name: '销售部', departments: [2] }] }),
    );
    const pd = new PersonalData(
      new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
      new LookupHasher(randomBytes(32)),
    );
    const clock = new ManualClock(Date.parse('2026-06-01T03:00:00Z'));
    const deps = { pd, queues, clock, timeZone: 'Asia/Shanghai', workingHours: defaultTaskSettings.workingHours };
    const sources = ['dcc', 'autohome', 'dongchedi', 'yiche', 'short_video'] as const;

    // Arrivals spread over one minute of real time, each one API call of one lead made when it
    // arrives (open loop: a slow intake does not slow the arrivals down). Latency runs from the
    // lead's arrival to its card job being in Redis.
    const latencies: number[] = [];
    const calls: Promise<void>[] = [];
    counting = true;
    const cpuBefore = await cpuSeconds(mongo.process.child.pid, redis);
    const started = Date.now();
    const startedPerf = performance.now();
    const arrive = async (i: number, arrivedAt: number) => {
      await ingestLeads(
        deps,
        CORP,
        [
          {
            source: sources[i % sources.length],
            mobile: `139${String(10_000_000 + i).slice(-8)}`,
            name: `测试${i}`,
            model: '星途瑶光',
          },
        ],
        { actor: 'bench' },
      );
      latencies.push(performance.now() - arrivedAt);
    };
    for (let i = 0; i < LEADS;) {
      const due = startedPerf + (i / LEADS) * WINDOW_MS;
      const now = performance.now();
      if (now < due) {
        await new Promise((r) => setTimeout(r, Math.max(1, due - now)));
        continue;
      }
      for (; i < LEADS && startedPerf + (i / LEADS) * WINDOW_MS <= performance.now(); i++)
        calls.push(arrive(i, startedPerf + (i / LEADS) * WINDOW_MS));
    }
    await Promise.all(calls);
    const elapsed = (Date.now() - started) / 1000;
    counting = false;
    const cpuAfter = await cpuSeconds(mongo.process.child.pid, redis);
    const cpuMsPerLead = (k: keyof typeof cpuAfter) => round2(((cpuAfter[k] - cpuBefore[k]) * 1000) / LEADS);
    const commandsPerLead = Object.fromEntries(
      [...commands].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, round2(n / LEADS)]),
    );
    const totalCommands = [...commands.values()].reduce((a, b) => a + b, 0);
    const per = await LeadModel.aggregate<{ _id: string; n: number }>([
      { $match: { corpId: CORP } },
      { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
    ]);
    const counts = per.filter((p) => p._id).map((p) => p.n);
    const redisCounts = await leadCounts(queues, CORP);
    const countersExact = per.every((p) => !p._id || redisCounts.get(p._id) === p.n);
    const cards = await queues.get('scheduled').getJobCountByTypes('waiting', 'delayed', 'completed', 'active');
    const result = {
      leads: LEADS,
      advisors: ADVISORS,
      seconds: round1(elapsed),
      leadsPerSecond: round1(LEADS / elapsed),
      routed: counts.reduce((a, b) => a + b, 0),
      eligibleAdvisorsUsed: counts.length,
      maxPerAdvisor: Math.max(...counts),
      minPerAdvisor: Math.min(...counts),
      spread: round2((Math.max(...counts) - Math.min(...counts)) / Math.min(...counts)),
      cardJobs: cards,
      countersMatchMongo: countersExact,
      intakeToCardJobP50Ms: round1(percentile(latencies, 50)),
      intakeToCardJobP99Ms: round1(percentile(latencies, 99)),
      mongoCommandsPerLead: round2(totalCommands / LEADS),
      cpuMsPerLead: { intake: cpuMsPerLead('intake'), mongo: cpuMsPerLead('mongo'), redis: cpuMsPerLead('redis') },
      loadAverage: os.loadavg().map(round1),
      mongoCommandsPerLeadByName: commandsPerLead,
    };
    console.table([
      {
        metric: 'leads / time',
        value: `${LEADS} in ${result.seconds} s (${result.leadsPerSecond}/s)`,
        target: `${LEADS} in 60 s`,
      },
      {
        metric: 'routed to advisors',
        value: `${result.routed} across ${result.eligibleAdvisorsUsed}`,
        target: `${LEADS} across ${ADVISORS}`,
      },
      {
        metric: 'fairness max/min per advisor',
        value: `${result.maxPerAdvisor}/${result.minPerAdvisor} (spread ${Math.round(result.spread * 100)} %)`,
        target: '≤ 10 %',
      },
      {
        metric: 'intake → card job p50 / p99',
        value: `${result.intakeToCardJobP50Ms} / ${result.intakeToCardJobP99Ms} ms`,
        target: 'p99 < 5000 ms',
      },
      { metric: 'card jobs queued', value: String(result.cardJobs), target: String(LEADS) },
      { metric: 'Redis open-lead counters = MongoDB', value: String(countersExact), target: 'true' },
      { metric: 'MongoDB commands per lead', value: String(result.mongoCommandsPerLead), target: '' },
      {
        metric: 'CPU ms per lead: intake / MongoDB / Redis',
        value: `${result.cpuMsPerLead.intake} / ${result.cpuMsPerLead.mongo} / ${result.cpuMsPerLead.redis}`,
        target: '',
      },
      { metric: 'load average (1/5/15 min) at the end', value: result.loadAverage.join(' / '), target: '' },
    ]);
    console.log('MongoDB commands per lead by name:', commandsPerLead);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/leads.json', JSON.stringify(result, null, 2));
  } finally {
    await mongoose.disconnect();
    await queues.close();
    redis.disconnect();
    await Promise.all([redisServer.stop(), mongo.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
