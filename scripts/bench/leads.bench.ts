/**
 * `npm run bench:leads`: 10,000 leads arriving within one minute for one dealer with 50 advisors on
 * shift, end to end as in production: the leads reach the real web process at their arrival times
 * (open loop) through `POST /api/v1/leads`, either as the car maker's DCC and the portals push them,
 * one batch call per second carrying the leads of that second (`BENCH_ARRIVAL=batch`, the default),
 * or one call per lead (`BENCH_ARRIVAL=single`, a platform pushing each lead on its own); each
 * lead's clock starts at its own arrival, so a batch's wait counts. The real worker process sends
 * the cards, and the WeCom sandbox in
 * this process records when each advisor received the lead — its own card, or a digest naming it
 * (docs/acquisition.md "Cards in a burst"). The dev MongoDB server and a private Redis run in
 * processes of their own (scripts/faults/bot-stack.ts). Prints routing throughput, the fairness of
 * the split (max/min leads per eligible advisor, target within 10 %), intake → card at the sandbox
 * (p50/p99, target p99 under 5 s), messages WeCom would have dropped, MongoDB commands per lead by
 * process (counted by a preloaded module, mongo-command-counter.ts) and CPU per lead by process;
 * writes bench-results/leads.json. Env: BENCH_LEADS (10000); BENCH_DRAIN_S (180: how long after the
 * last arrival a lead may take before it counts as never announced); BENCH_EVENTS_DRAIN_S (120: how long
 * the CPU and command figures wait for the run's domain events to be processed); BENCH_BASELINE=<git ref> runs the web
 * and the worker from that commit instead (`git archive`), for a before/after under the same load.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { acquisitionSettingsSchema } from '../../src/domain/acquisition/acquisition-settings.js';
import { AcquisitionSettingsModel } from '../../src/domain/acquisition/acquisition-settings.model.js';
import { leadCounts } from '../../src/domain/acquisition/lead-counters.js';
import { LeadModel } from '../../src/domain/acquisition/lead.model.js';
import { TokenService } from '../../src/domain/auth/token.service.js';
import { CorpModel } from '../../src/domain/corps/corp.model.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { DEMO_CORP_ID } from '../wecom-sandbox/world/demo-seed.js';
import { BotStack, startBackends } from '../faults/bot-stack.js';
import { checkoutBaseline, cpuMsOf, readCommandCounts } from './baseline.js';
import { percentile, round1, round2 } from './stats.js';

const LEADS = Number(process.env.BENCH_LEADS ?? 10_000);
const ADVISORS = 50;
const WINDOW_MS = 60_000;
const CORP = DEMO_CORP_ID;
/** How long the cards may take after the last arrival before a lead counts as never announced. */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_S ?? 180) * 1000;
const LEAD_LINK = /\/console\/m\/leads\/([a-f0-9]{24})/g;
const ARRIVAL = process.env.BENCH_ARRIVAL ?? 'batch';
if (ARRIVAL !== 'batch' && ARRIVAL !== 'single') {
  console.error(`BENCH_ARRIVAL must be "batch" or "single", not "${ARRIVAL}"`);
  process.exit(2);
}
/** A batch call carries the leads that arrived in this much time. */
const BATCH_MS = 1000;

/** CPU seconds so far of a process (Linux /proc). */
const cpuOf = (pid: number | undefined): number => cpuMsOf(pid) / 1000;

const commandCounts = readCommandCounts;

const checkout = (ref: string) => checkoutBaseline(ref, 'scrm-bench-leads-baseline-');

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));

async function main(): Promise<void> {
  const backends = await startBackends();
  const countDir = mkdtempSync(join(os.tmpdir(), 'scrm-bench-leads-'));
  const stack = await BotStack.create(
    backends,
    'benchleads',
    { API_RATE_LIMIT_PER_MINUTE: '1000000', LOG_LEVEL: 'error' },
    {
      preload: [resolve('scripts/bench/mongo-command-counter.ts')],
      ...(process.env.BENCH_BASELINE ? { dir: checkout(process.env.BENCH_BASELINE) } : {}),
    },
  );
  const redis = new Redis(backends.redis.url, { maxRetriesPerRequest: null });
  const queues = new Queues(redis, 'benchleads');
  const world = backends.sandbox.world.corp(CORP);
  if (!world) throw new Error('no demo corp in the sandbox');
  const advisors = Array.from({ length: ADVISORS }, (_, i) => `adv${String(i).padStart(2, '0')}`);
  for (const userid of advisors)
    world.members.push({
      userid,
      name: `顾问${userid}`,
      department: [2],
      isLeaderInDept: [0],
      directLeader: [],
      mainDepartment: 2,
      position: '销售顾问',
      status: 1,
      visible: true,
      customerContact: true,
    });
  await mongoose.connect(stack.config.mongo.uri);
  const file = (role: string) => join(countDir, `${role}.json`);
  try {
    await Promise.all([LeadModel.syncIndexes(), AdvisorModel.syncIndexes()]);
    await AdvisorModel.insertMany(
      advisors.map((userid, i) => ({
        corpId: CORP,
        userid,
        name: `顾问${i}`,
        departments: [2],
        status: 'active',
      })),
    );
    await AcquisitionSettingsModel.updateOne(
      { corpId: CORP },
      {
        $set: {
          settings: acquisitionSettingsSchema.parse({
            defaultLeadCap: 10_000,
            rules: [{ name: '销售部', advisors }],
          }),
        },
      },
      { upsert: true },
    );
    // An issued API token, as a platform's integration would hold (resolved per call, like theirs).
    const { token } = await new TokenService(() => new Date()).create({ role: 'admin', corps: [], label: 'bench' });
    // Whatever the hour of the run: the dealer works around the clock, so every lead is routed now.
    await CorpModel.updateOne(
      { corpId: CORP },
      { $set: { tasks: { workingHours: { start: '00:00', end: '23:59' } } } },
    );
    await Promise.all([
      stack.start('web', { BENCH_MONGO_COMMANDS_FILE: file('web') }),
      stack.start('worker', { BENCH_MONGO_COMMANDS_FILE: file('worker') }),
    ]);
    const pids = {
      web: stack.procs.get('web')?.child.pid,
      worker: stack.procs.get('worker')?.child.pid,
      mongo: backends.mongo.process.child.pid,
    };
    const url = `http://127.0.0.1:${backends.webPort}/api/v1/leads`;
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Warm-up (JIT, connections, the settings and the counters), then counted from a clean slate.
    // (A 503 while the database connection is still coming up on a loaded machine: asked again.)
    let warm = await post({ corpId: CORP, source: 'walk_in', mobile: '13700000000', name: '预热' });
    for (let i = 0; i < 20 && warm.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      warm = await post({ corpId: CORP, source: 'walk_in', mobile: '13700000000', name: '预热' });
    }
    if (!warm.ok) throw new Error(`warm-up lead: ${warm.status} ${await warm.text()}`);
    await new Promise((r) => setTimeout(r, 2000));
    const countsBefore = {
      web: await commandCounts(pids.web, file('web')),
      worker: await commandCounts(pids.worker, file('worker')),
    };
    const cpuBefore = {
      web: cpuOf(pids.web),
      worker: cpuOf(pids.worker),
      mongo: cpuOf(pids.mongo),
      bench: process.cpuUsage(),
    };
    const messagesBefore = world.messages.length;

    // Arrivals spread over one minute of real time, each one API call made when it arrives (open
    // loop: a slow intake does not slow the arrivals down). The clock starts when the request leaves.
    const arrivedAt = new Map<string, number>();
    const intakeMs: number[] = [];
    let refused = 0;
    const calls: Promise<void>[] = [];
    const sources = ['dcc', 'autohome', 'dongchedi', 'yiche', 'short_video'] as const;
    const started = Date.now();
    let failed = 0;
    const lead = (i: number) => ({
      source: sources[i % sources.length],
      mobile: `139${String(10_000_000 + i).slice(-8)}`,
      name: `测试${i}`,
      model: '星途瑶光',
    });
    /** Sends leads `from`..`to`-1 in one call; each lead's clock started at its own arrival time. */
    const arrive = async (from: number, to: number) => {
      const callAt = Date.now();
      const items = Array.from({ length: to - from }, (_, k) => lead(from + k));
      const body = ARRIVAL === 'single' ? { corpId: CORP, ...items[0] } : { corpId: CORP, leads: items };
      const res = await post(body).catch(() => undefined);
      // A connection reset or refused under load: counted, not retried (the leads are lost to the run).
      if (!res) {
        failed += to - from;
        return;
      }
      intakeMs.push(Date.now() - callAt);
      const answer = (await res.json()) as { results?: Array<{ status: string; leadId?: string }> };
      for (let k = 0; k < to - from; k++) {
        const leadId = answer.results?.[k]?.leadId;
        if (res.ok && leadId) arrivedAt.set(leadId, started + ((from + k) / LEADS) * WINDOW_MS);
        else refused++;
      }
    };
    const dueOf = (i: number) => started + (i / LEADS) * WINDOW_MS;
    for (let i = 0; i < LEADS;) {
      // A batch leaves at the end of its second with the leads that arrived in it.
      const leavesAt = ARRIVAL === 'single' ? dueOf(i) : Math.min(started + WINDOW_MS, dueOf(i) + BATCH_MS);
      if (Date.now() < leavesAt) {
        await new Promise((r) => setTimeout(r, Math.max(1, leavesAt - Date.now())));
        continue;
      }
      if (ARRIVAL === 'single') {
        for (; i < LEADS && dueOf(i) <= Date.now(); i++) calls.push(arrive(i, i + 1));
        continue;
      }
      let j = i;
      while (j < LEADS && dueOf(j) < leavesAt) j++;
      calls.push(arrive(i, Math.max(j, i + 1)));
      i = Math.max(j, i + 1);
    }
    await Promise.all(calls);
    const intakeSeconds = (Date.now() - started) / 1000;

    // Each lead's first announcement at the sandbox: its own card, or a digest linking it.
    const announcedAt = new Map<string, number>();
    let seen = messagesBefore;
    let dropped = 0;
    const scan = () => {
      for (; seen < world.messages.length; seen++) {
        const m = world.messages[seen];
        if (!m || !m.touser.some((u) => u.startsWith('adv'))) continue;
        dropped += m.dropped?.length ?? 0;
        const ids =
          m.msgtype === 'markdown'
            ? [...((m.body as { markdown?: { content: string } }).markdown?.content ?? '').matchAll(LEAD_LINK)].map(
                (x) => x[1] as string,
              )
            : [/^ld-([a-f0-9]{24})-1$/.exec(m.taskId ?? '')?.[1]].filter((x): x is string => Boolean(x));
        for (const id of ids) if (!announcedAt.has(id)) announcedAt.set(id, m.atMs);
      }
    };
    const deadline = Date.now() + DRAIN_MS;
    let unlisted = 0;
    while (Date.now() < deadline) {
      scan();
      if (announcedAt.size >= arrivedAt.size) break;
      // A digest too long to link every lead counts the rest ("另有 n 条"): their history says when.
      const digested = await LeadModel.countDocuments({ corpId: CORP, 'history.action': 'card_digest' });
      if (announcedAt.size + digested >= arrivedAt.size && digested > 0) {
        const rows = await LeadModel.find(
          { corpId: CORP, 'history.action': 'card_digest' },
          { history: { $elemMatch: { action: 'card_digest' } } },
        ).lean();
        for (const r of rows)
          if (!announcedAt.has(String(r._id)) && r.history[0]) {
            announcedAt.set(String(r._id), new Date(r.history[0].at).getTime());
            unlisted++;
          }
        if (announcedAt.size >= arrivedAt.size) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const lastCardSeconds = (Math.max(...announcedAt.values()) - started) / 1000;
    // A lead not announced by the deadline counts as never (Infinity): the percentiles stay honest.
    const latencies = [...arrivedAt].map(([id, at]) => {
      const t = announcedAt.get(id);
      return t === undefined ? Infinity : t - at;
    });
    const notAnnounced = latencies.filter((l) => l === Infinity).length;

    // The per-lead figures include the lead's domain event (the ledger, the rules): wait for the
    // domain-events queue to drain (at most BENCH_EVENTS_DRAIN_S) before reading CPU and commands.
    const eventsQueue = queues.get(QueueName.domainEvents);
    const eventsBacklog = async () =>
      Object.values(await eventsQueue.getJobCounts('waiting', 'active', 'prioritized', 'delayed')).reduce(
        (a, b) => a + b,
        0,
      );
    const eventsDeadline = Date.now() + Number(process.env.BENCH_EVENTS_DRAIN_S ?? 120) * 1000;
    let eventsLeft = await eventsBacklog();
    while (eventsLeft > 0 && Date.now() < eventsDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      eventsLeft = await eventsBacklog();
    }
    const eventsDrainedAfterS = round1((Date.now() - started) / 1000);

    // Per accepted lead: a call that failed cost little and stored nothing.
    const accepted = Math.max(1, arrivedAt.size);
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpuMsPerLead = (now: number, before: number) => round2(((now - before) * 1000) / accepted);
    const cpu = {
      web: cpuMsPerLead(cpuOf(pids.web), cpuBefore.web),
      worker: cpuMsPerLead(cpuOf(pids.worker), cpuBefore.worker),
      mongo: cpuMsPerLead(cpuOf(pids.mongo), cpuBefore.mongo),
      benchAndSandbox: round2((benchCpu.user + benchCpu.system) / 1000 / accepted),
    };
    const web = diff(await commandCounts(pids.web, file('web')), countsBefore.web);
    const worker = diff(await commandCounts(pids.worker, file('worker')), countsBefore.worker);
    const perLead = (c: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(c)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => [k, round2(n / accepted)]),
      );
    const per = await LeadModel.aggregate<{ _id: string; n: number }>([
      { $match: { corpId: CORP, advisorUserid: { $in: advisors } } },
      { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
    ]);
    const counts = per.map((p) => p.n);
    const redisCounts = await leadCounts(queues, CORP);
    const allOpen = await LeadModel.aggregate<{ _id: string; n: number }>([
      { $match: { corpId: CORP, stage: 'new' } },
      { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
    ]);
    const countersExact = allOpen.every((p) => !p._id || redisCounts.get(p._id) === p.n);
    const counterDrift = allOpen
      .filter((p) => p._id && redisCounts.get(p._id) !== p.n)
      .slice(0, 5)
      .map((p) => ({ userid: p._id, mongo: p.n, redis: redisCounts.get(p._id) ?? null }));
    const ownCards = world.messages
      .slice(messagesBefore)
      .filter((m) => m.msgtype === 'template_card' && m.touser.some((u) => u.startsWith('adv'))).length;
    const digests = world.messages
      .slice(messagesBefore)
      .filter((m) => m.msgtype === 'markdown' && m.touser.some((u) => u.startsWith('adv'))).length;
    const result = {
      code: process.env.BENCH_BASELINE ?? 'working tree',
      arrival: ARRIVAL === 'single' ? 'one call per lead' : `one batch call per ${BATCH_MS} ms`,
      leads: LEADS,
      accepted: arrivedAt.size,
      refused,
      failedConnections: failed,
      advisors: ADVISORS,
      intakeSeconds: round1(intakeSeconds),
      leadsPerSecond: round1(arrivedAt.size / intakeSeconds),
      intakeCallP50Ms: round1(percentile(intakeMs, 50)),
      intakeCallP99Ms: round1(percentile(intakeMs, 99)),
      routed: counts.reduce((a, b) => a + b, 0),
      eligibleAdvisorsUsed: counts.length,
      maxPerAdvisor: Math.max(...counts),
      minPerAdvisor: Math.min(...counts),
      spread: round2((Math.max(...counts) - Math.min(...counts)) / Math.min(...counts)),
      announced: latencies.length - notAnnounced,
      notAnnouncedByDeadline: notAnnounced,
      announcedFromHistory: unlisted,
      ownCards,
      digests,
      droppedByWecomLimits: dropped,
      intakeToCardP50Ms: round1(percentile(latencies, 50)),
      intakeToCardP99Ms: round1(percentile(latencies, 99)),
      intakeToCardMaxMs: round1(Math.max(...latencies)),
      // Infinity (null in the JSON) above: not every lead was announced within the drain deadline.
      lastCardAfterS: round1(lastCardSeconds),
      countersMatchMongo: countersExact,
      counterDrift,
      // When the domain events of the run were all processed (s after the first arrival), or how many were left.
      eventsDrainedAfterS,
      eventsLeft,
      mongoCommandsPerLead: { web: round2(sum(web) / accepted), worker: round2(sum(worker) / accepted) },
      cpuMsPerLead: cpu,
      loadAverage: os.loadavg().map(round1),
      mongoCommandsPerLeadByName: { web: perLead(web), worker: perLead(worker) },
    };
    console.table([
      {
        metric: `leads accepted / intake time (${result.arrival})`,
        value: `${result.accepted} in ${result.intakeSeconds} s (${result.leadsPerSecond}/s), ${refused} refused, ${failed} failed`,
        target: `${LEADS} in 60 s (≥ 167/s)`,
      },
      {
        metric: 'API call p50 / p99',
        value: `${result.intakeCallP50Ms} / ${result.intakeCallP99Ms} ms`,
        target: '',
      },
      {
        metric: 'fairness max/min per advisor',
        value: `${result.maxPerAdvisor}/${result.minPerAdvisor} across ${counts.length} (spread ${Math.round(result.spread * 100)} %)`,
        target: `≤ 10 % across ${ADVISORS}`,
      },
      {
        metric: 'intake → card at the sandbox p50 / p99 / max',
        value: `${result.intakeToCardP50Ms} / ${result.intakeToCardP99Ms} / ${result.intakeToCardMaxMs} ms`,
        target: 'p99 < 5000 ms',
      },
      {
        metric: 'announced (own cards / digests / from history)',
        value: `${result.announced} (${ownCards} / ${digests} / ${unlisted})`,
        target: `${result.accepted} (${notAnnounced} not by the deadline)`,
      },
      { metric: 'messages WeCom would drop', value: String(dropped), target: '0' },
      {
        metric: 'Redis open-lead counters = MongoDB',
        value: countersExact ? 'true' : `false ${JSON.stringify(counterDrift)}`,
        target: 'true',
      },
      {
        metric: 'domain events processed (CPU and commands counted up to then)',
        value: eventsLeft === 0 ? `all, ${eventsDrainedAfterS} s after the first arrival` : `${eventsLeft} left`,
        target: '',
      },
      {
        metric: 'MongoDB commands per lead: web / worker',
        value: `${result.mongoCommandsPerLead.web} / ${result.mongoCommandsPerLead.worker}`,
        target: '',
      },
      {
        metric: 'CPU ms per lead: web / worker / MongoDB / bench+sandbox',
        value: `${cpu.web} / ${cpu.worker} / ${cpu.mongo} / ${cpu.benchAndSandbox}`,
        target: '',
      },
      { metric: 'load average (1/5/15 min) at the end', value: result.loadAverage.join(' / '), target: '' },
    ]);
    console.log('MongoDB commands per lead by process, collection and command:', result.mongoCommandsPerLeadByName);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      `bench-results/leads-${ARRIVAL}${process.env.BENCH_BASELINE ? '-baseline' : ''}.json`,
      JSON.stringify(result, null, 2),
    );
  } finally {
    await mongoose.disconnect();
    await queues.close();
    redis.disconnect();
    // A CPU profile (BENCH_CPU_PROF_DIR, bot-stack.ts) is written only by a process that exits itself.
    if (process.env.BENCH_CPU_PROF_DIR)
      await Promise.all([stack.terminate('worker'), stack.terminate('web')]).catch(() => undefined);
    await stack.stop();
    await backends.stop();
    rmSync(countDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
