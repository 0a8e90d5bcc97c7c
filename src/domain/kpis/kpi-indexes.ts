import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { KpiDailyModel } from './kpi-daily.model.js';

/**
 * The indexes that let a day's rollup read only that day's documents (docs/cockpit.md). They are
 * declared here, next to the queries that need them, on the owning schemas (so `syncIndexes`
 * keeps them) and created by `ensureKpiIndexes()`. Tasks already have `{corpId, dueAt}`.
 */
const SOURCE_INDEXES = [
  [RelationshipModel, { corpId: 1, addedAt: 1 }, 'kpi_corp_added'],
  [RelationshipModel, { corpId: 1, statusChangedAt: 1 }, 'kpi_corp_status_changed'],
  [CustomerModel, { corpId: 1, 'lifecycleHistory.at': 1 }, 'kpi_corp_lifecycle_at'],
  [ExecutionModel, { corpId: 1, createdAt: 1 }, 'kpi_corp_created'],
  [MessageRecipientModel, { corpId: 1, createdAt: 1 }, 'kpi_corp_created'],
] as const;

for (const [model, keys, name] of SOURCE_INDEXES) {
  if (!model.schema.indexes().some(([, o]) => o.name === name)) model.schema.index(keys, { name });
}

let ensured: Promise<void> | undefined;

/** Creates the rollup's source indexes and kpi_daily's own, once per process. */
export function ensureKpiIndexes(): Promise<void> {
  ensured ??= Promise.all(
    [...new Set([...SOURCE_INDEXES.map(([m]) => m), TaskModel, KpiDailyModel])].map((m) =>
      (m as typeof TaskModel).createIndexes(),
    ),
  )
    .then(() => undefined)
    .catch((err: unknown) => {
      ensured = undefined;
      throw err;
    });
  return ensured;
}
