import type { Types } from 'mongoose';
import { CustomerModel } from '../../customers/customer.model.js';
import { TaskModel } from '../../tasks/task.model.js';
import { loadCustomerContext } from '../customer-context.js';
import type { EngineDeps } from './engine-deps.js';
import { runRule } from './engine.js';
import { findActiveRules } from './rule-finder.js';

/**
 * The `inactivity` trigger (docs/tasks.md): a customer with no completed follow-up task for N days.
 * Evaluated once a local day per corp by the tasks' tick, not per event: inactivity is the
 * absence of events. The last completion comes from `tasks` (what `task.completed` records);
 * a customer never followed up counts from when they were added. The occurrence id names the
 * episode (`inactive:<days>:<last completion or 'never'>`), so a rule fires once per episode and
 * again only after a new completion followed by another quiet period.
 */
export async function evaluateInactivityRules(
  deps: EngineDeps,
  batchSize = 500,
): Promise<{ corpId: string; rules: number; ran: number }> {
  const now = deps.clock.now();
  const rules = await findActiveRules(deps.corpId, 'inactivity', now);
  let ran = 0;
  for (const rule of rules) {
    if (rule.body.trigger.type !== 'inactivity') continue;
    const threshold = deps.clock.at(deps.timeZone).subtract(rule.body.trigger.days, 'day').toDate();
    let after: Types.ObjectId | undefined;
    for (;;) {
      const customers = await CustomerModel.find(
        {
          corpId: deps.corpId,
          'lifecycle.stage': { $ne: 'lost' },
          createdAt: { $lte: threshold },
          ...(after ? { _id: { $gt: after } } : {}),
        },
        { _id: 1 },
      )
        .sort({ _id: 1 })
        .limit(batchSize)
        .lean();
      if (customers.length === 0) break;
      after = customers[customers.length - 1]?._id;
      const last = await TaskModel.aggregate<{ _id: Types.ObjectId; at: Date }>([
        { $match: { corpId: deps.corpId, customerId: { $in: customers.map((c) => c._id) }, status: 'done' } },
        { $group: { _id: '$customerId', at: { $max: '$completedAt' } } },
      ]);
      const lastAt = new Map(last.map((l) => [String(l._id), l.at]));
      for (const c of customers) {
        const at = lastAt.get(String(c._id));
        if (at && at.getTime() > threshold.getTime()) continue;
        const ctx = await loadCustomerContext(deps.corpId, c._id, { pd: deps.pd });
        if (!ctx) continue;
        const outcome = await runRule(
          deps,
          rule,
          ctx,
          `inactive:${rule.body.trigger.days}:${at ? at.getTime() : 'never'}`,
          now,
        );
        if (outcome === 'ran') ran++;
      }
      if (customers.length < batchSize) break;
    }
  }
  return { corpId: deps.corpId, rules: rules.length, ran };
}
