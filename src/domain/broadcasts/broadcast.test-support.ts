import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
import { reconcileCorp } from '../customers/reconcile.service.js';
import type { BroadcastDeps } from './broadcast.service.js';

/** One corp's people for a broadcast test: a department with its manager (`manager1`) and advisors. */
export interface BroadcastCorp {
  department: string;
  advisors: Array<{ userid: string; name: string }>;
  /** Each customer (named `客户<i>`) and the advisor who follows them. */
  customers: Array<{ externalUserid: string; advisor: string }>;
}

export interface BroadcastHarness {
  h: CustomerHarness;
  corpId: string;
  deps: BroadcastDeps;
}

/**
 * A customer harness with one corp seeded in the WeCom sandbox and reconciled into MongoDB, and
 * the deps a broadcast is sent with: dealer time Asia/Shanghai, quiet hours 21:00–08:00.
 * The caller closes `h` (closed here when the seeding fails).
 */
export async function startBroadcastHarness(label: string, corp: BroadcastCorp): Promise<BroadcastHarness> {
  const h = await startCustomerHarness(label);
  try {
    return await seedBroadcastCorp(h, corp);
  } catch (err) {
    await h.close();
    throw err;
  }
}

async function seedBroadcastCorp(h: CustomerHarness, corp: BroadcastCorp): Promise<BroadcastHarness> {
  const [corpId] = h.sandbox.world.seed({
    corps: [
      {
        departments: [
          { id: 1, name: 'Root' },
          { id: 2, name: corp.department, parentid: 1 },
        ],
        members: [
          { userid: 'manager1', name: '王经理', department: [2], isLeaderInDept: [1] },
          ...corp.advisors.map((a) => ({ ...a, department: [2] })),
        ],
        customers: corp.customers.map((c, i) => ({
          external_userid: c.externalUserid,
          name: `客户${i}`,
          follows: [{ userid: c.advisor }],
        })),
      },
    ],
  }).corpIds as [string];
  const base = h.depsFor(corpId);
  await reconcileCorp(base, { runId: 'seed' });
  const deps: BroadcastDeps = {
    corpId,
    api: base.api,
    clock: h.clock,
    logger: base.logger,
    timeZone: 'Asia/Shanghai',
    quietHours: { start: '21:00', end: '08:00' },
    publicBaseUrl: 'http://console.test',
    tasks: h.taskDepsFor(corpId),
  };
  return { h, corpId, deps };
}
