/**
 * `npm run bench:sidebar` (docs/architecture.md §13.12): the chat sidebar's data for 1,000
 * different customers of one dealer with 200,000 customers (relationships, vehicles, tasks,
 * messages, repair orders, leads and a 60-item content library alongside), on the dev MongoDB server in its own process (or MONGODB_URI). Times what
 * `GET /api/v1/sidebar/customer` does per call: the customer lookup, the access rule, the audit
 * record and the view; and the bytes the phone downloads for the first paint (the built
 * `sidebar.html` and what it loads, gzip). Prints a table, writes bench-results/sidebar.json.
 * `--customers N` / `--samples N` scale it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { recordAudit } from '../../src/domain/audit/audit.service.js';
import { LeadModel } from '../../src/domain/acquisition/lead.model.js';
import { ContentItemModel } from '../../src/domain/content/content-item.model.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { MessageRecipientModel } from '../../src/domain/messages/message.model.js';
import { OutcomeModel } from '../../src/domain/outcomes/outcome.model.js';
import { sidebarAccess } from '../../src/domain/sidebar/sidebar-access.js';
import { loadSidebarView } from '../../src/domain/sidebar/sidebar-view.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { DataCipher, LookupHasher } from '../../src/infra/data-crypto.js';
import { median, percentile, round1 } from './stats.js';

const { values } = parseArgs({
  options: { customers: { type: 'string', default: '200000' }, samples: { type: 'string', default: '1000' } },
});
const CUSTOMERS = Number(values.customers);
const SAMPLES = Number(values.samples);
const CORP = 'wwbenchSidebar01';
const ADVISORS = 100;
const BATCH = 5000;
const NOW = new Date('2026-06-01T02:00:00Z');
const advisorIds = Array.from({ length: ADVISORS }, (_, i) => `adv${i}`);

async function inBatches(
  total: number,
  make: (i: number) => Record<string, unknown>,
  insert: (docs: Record<string, unknown>[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < total; i += BATCH)
    await insert(Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => make(i + k)));
}

async function seed(): Promise<Types.ObjectId[]> {
  await AdvisorModel.insertMany(
    advisorIds.map((userid, i) => ({ corpId: CORP, userid, name: `顾问${i}`, departments: [1 + (i % 10)] })),
  );
  const ids = Array.from({ length: CUSTOMERS }, () => new Types.ObjectId());
  const owner = (i: number) => advisorIds[i % ADVISORS] as string;
  await inBatches(
    CUSTOMERS,
    (i) => ({
      _id: ids[i],
      corpId: CORP,
      externalUserId: `wmsb${i}`,
      responsibleUserid: owner(i),
      lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: NOW },
      lifecycleHistory: [],
      optOut: { value: false },
    }),
    (d) => CustomerModel.collection.insertMany(d, { ordered: false }),
  );
  await inBatches(
    CUSTOMERS,
    (i) => ({
      corpId: CORP,
      userid: owner(i),
      externalUserId: `wmsb${i}`,
      customerId: ids[i],
      status: 'active',
      addedAt: NOW,
      tagIds: [],
      remarkMobilesEnc: [],
      remarkMobileHashes: [],
    }),
    (d) => RelationshipModel.collection.insertMany(d, { ordered: false }),
  );
  await inBatches(
    CUSTOMERS,
    (i) => ({
      corpId: CORP,
      vin: `LSVBENCH${String(i).padStart(9, '0')}`,
      model: '星途瑶光',
      customerId: ids[i],
      externalUserId: `wmsb${i}`,
      deliveryDate: NOW,
      mileageKm: 1000 + (i % 9000),
      source: 'import',
    }),
    (d) => VehicleModel.collection.insertMany(d, { ordered: false }),
  );
  await inBatches(
    CUSTOMERS,
    (i) => ({
      corpId: CORP,
      customerId: ids[i],
      advisorUserid: owner(i),
      title: '首保邀约',
      talkTrack: '{客户}您好，您的{车型}快到首保了',
      status: i % 3 === 0 ? 'open' : 'done',
      outcome: i % 3 === 0 ? undefined : 'contacted',
      completedAt: i % 3 === 0 ? undefined : NOW,
      dueAt: NOW,
      slaMs: 86_400_000,
      remindAt: NOW,
      escalationLevel: 0,
      ladder: { escalateAfterMs: 1, flagAfterMs: 2 },
      history: [],
      createdAt: NOW,
      updatedAt: NOW,
    }),
    (d) => TaskModel.collection.insertMany(d, { ordered: false }),
  );
  await inBatches(
    CUSTOMERS,
    (i) => ({
      key: `sb-${i}`,
      batchId: new Types.ObjectId(),
      corpId: CORP,
      customerId: ids[i],
      externalUserId: `wmsb${i}`,
      sender: owner(i),
      monthKey: '2026-05',
      status: 'sent',
      sentAt: NOW,
      createdAt: NOW,
      updatedAt: NOW,
    }),
    (d) => MessageRecipientModel.collection.insertMany(d, { ordered: false }),
  );
  // The results beside the touches: a repair order for one customer in four, a lead for one in twenty.
  await inBatches(
    Math.floor(CUSTOMERS / 4),
    (i) => ({
      corpId: CORP,
      source: 'dms',
      externalId: `RO-${i}`,
      version: 1,
      orderKey: '1',
      type: 'repair_order',
      roType: 'maintenance',
      status: 'active',
      occurredAt: NOW,
      customerId: ids[i * 4],
      matchedBy: 'vin',
      receivedVia: 'import',
      receivedAt: NOW,
    }),
    (d) => OutcomeModel.collection.insertMany(d, { ordered: false }),
  );
  await inBatches(
    Math.floor(CUSTOMERS / 20),
    (i) => ({
      corpId: CORP,
      source: 'autohome',
      stage: 'delivered',
      advisorUserid: owner(i * 20),
      customerId: ids[i * 20],
      lastInterestAt: NOW,
      createdAt: NOW,
      updatedAt: NOW,
    }),
    (d) => LeadModel.collection.insertMany(d, { ordered: false }),
  );
  // A content library of 60 items: 40 of the dealer's, 20 of the car maker's, tagged by stage and model.
  await ContentItemModel.collection.insertMany(
    Array.from({ length: 60 }, (_, i) => ({
      scope: i < 40 ? CORP : 'all',
      kind: 'talk_track',
      title: `话术${i}`,
      text: '{客户}您好，{车型}车主专享保养套餐已为您预留',
      stages: i % 2 === 0 ? ['owner'] : [],
      models: i % 3 === 0 ? ['星途瑶光'] : [],
      campaigns: [],
      createdBy: 'bench',
      createdAt: NOW,
      updatedAt: NOW,
    })),
  );
  return ids;
}

/** The sidebar page's first paint: sidebar.html and the scripts and styles it references, gzip. */
function firstPaintBytes(): { files: number; raw: number; gzip: number } | undefined {
  const dir = join(process.cwd(), 'dist/console');
  const html = join(dir, 'sidebar.html');
  if (!existsSync(html)) return undefined;
  const text = readFileSync(html, 'utf8');
  const refs = [...text.matchAll(/(?:src|href)="\/console\/([^"]+)"/g)].map((m) => join(dir, m[1] ?? ''));
  const files = [html, ...refs.filter((f) => existsSync(f))];
  const bytes = files.map((f) => readFileSync(f));
  return {
    files: files.length,
    raw: bytes.reduce((n, b) => n + b.length, 0),
    gzip: bytes.reduce((n, b) => n + gzipSync(b).length, 0),
  };
}

async function main(): Promise<void> {
  const external = process.env.MONGODB_URI;
  const dev = external ? undefined : await startDevMongoProcess({ nodeArgs: ['--max-old-space-size=8192'] });
  const dbName = `bench_sidebar_${Date.now()}`;
  await mongoose.connect(external ? external.replace(/\/?(\?|$)/, `/${dbName}$1`) : `${dev?.uri}/${dbName}`);
  try {
    await Promise.all(Object.values(mongoose.models).map((m) => m.syncIndexes()));
    const t0 = performance.now();
    console.log(
      `seeding ${CUSTOMERS} customers with relationships, vehicles, tasks, messages, repair orders, leads and a content library (${external ? 'MONGODB_URI' : 'dev server'}) ...`,
    );
    await seed();
    console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const pd = new PersonalData(
      new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
      new LookupHasher(randomBytes(32)),
    );
    const ms: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      const i = Math.floor((s * CUSTOMERS) / SAMPLES);
      const userid = advisorIds[i % ADVISORS] as string;
      const p = { role: 'advisor' as const, corps: [CORP], userid, tokenId: 'bench' };
      const started = performance.now();
      const customer = await CustomerModel.findOne(
        { corpId: CORP, externalUserId: `wmsb${i}` },
        { _id: 1, corpId: 1, externalUserId: 1 },
      ).lean();
      if (!customer) throw new Error(`customer ${i} missing`);
      const access = await sidebarAccess(p, CORP, customer.externalUserId);
      if (!access) throw new Error(`access refused for ${i}`);
      await recordAudit({
        actor: p,
        action: 'sidebar.read',
        target: { type: 'customer', id: String(customer._id), corpId: CORP },
        at: NOW,
        detail: { access },
      });
      const view = await loadSidebarView(pd, customer, { userid, access, timeZone: 'Asia/Shanghai', now: NOW });
      if (!view || view.vehicles.length !== 1) throw new Error(`view ${i} incomplete`);
      ms.push(performance.now() - started);
    }
    const paint = firstPaintBytes();
    const rows = [
      {
        measure: `sidebar API data, ${SAMPLES} customers of ${CUSTOMERS}`,
        p50: `${round1(median(ms))} ms`,
        p99: `${round1(percentile(ms, 99))} ms`,
        target: 'p99 < 150 ms',
      },
      {
        measure: 'first paint (sidebar.html + its JS and CSS)',
        p50: paint ? `${paint.gzip} B gzip` : 'not built (npm run build:console)',
        p99: paint ? `${paint.raw} B raw, ${paint.files} files` : '',
        target: '< 300 KB compressed',
      },
    ];
    console.table(rows);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/sidebar.json',
      JSON.stringify(
        { customers: CUSTOMERS, samples: SAMPLES, p50Ms: median(ms), p99Ms: percentile(ms, 99), firstPaint: paint },
        null,
        2,
      ),
    );
  } finally {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
    await dev?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:sidebar failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
