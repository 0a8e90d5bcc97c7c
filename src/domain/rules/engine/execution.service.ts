import { Types } from 'mongoose';
import type { Action } from '../rule.schema.js';
import { ExecutionModel, type ActionStatus } from './execution.model.js';

export interface ExecutionKey {
  ruleId: string;
  subject: string;
  occurrenceId: string;
}

type ExecutionLean = {
  _id: Types.ObjectId;
  status: string;
  ruleVersion: number;
  actions: Array<{ index: number; status: string }>;
};

export interface ClaimedExecution {
  id: string;
  /** The version recorded at the first claim (a retry keeps it). */
  ruleVersion: number;
  /** Action indexes still to run (not done, scheduled or skipped). */
  open: number[];
  /** True when this claim created the record. */
  fresh: boolean;
}

/**
 * Claims the execution of (rule, subject, occurrence): creates the record on first sight
 * (unique index) or returns the existing one, with the actions still open. A finished execution
 * returns no open actions, so a replayed event or a retried job does nothing.
 */
export async function claimExecution(
  key: ExecutionKey,
  info: { corpId: string; ruleVersion: number; trigger: string; triggerAt?: Date; actions: readonly Action[] },
): Promise<ClaimedExecution> {
  const filter = { ruleId: new Types.ObjectId(key.ruleId), subject: key.subject, occurrenceId: key.occurrenceId };
  let created = false;
  let doc: ExecutionLean | null;
  try {
    // One command: the record as it is after the upsert, and whether this call created it.
    const res = (await ExecutionModel.findOneAndUpdate(
      filter,
      {
        $setOnInsert: {
          corpId: info.corpId,
          ruleVersion: info.ruleVersion,
          trigger: info.trigger,
          ...(info.triggerAt ? { triggerAt: info.triggerAt } : {}),
          status: 'running',
          actions: info.actions.map((a, index) => ({ index, type: a.type, status: 'pending', attempts: 0 })),
        },
      },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    ).lean()) as unknown as { value: ExecutionLean | null; lastErrorObject?: { updatedExisting?: boolean } };
    created = res.lastErrorObject?.updatedExisting === false;
    doc = res.value;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    doc = await ExecutionModel.findOne(filter).lean(); // a concurrent claim created it first
  }
  if (!doc) throw new Error('execution record vanished after upsert');
  const open =
    doc.status === 'running'
      ? doc.actions.filter((a) => a.status === 'pending' || a.status === 'failed').map((a) => a.index)
      : [];
  return { id: String(doc._id), ruleVersion: doc.ruleVersion, open, fresh: created };
}

/** Whether an execution exists (preview and tests: "it already served this customer"). */
export async function executionExists(corpId: string, key: ExecutionKey): Promise<boolean> {
  // corpId first, as every per-corp query (docs/scale.md, "Queries without corpId").
  return Boolean(
    await ExecutionModel.exists({
      corpId,
      ruleId: new Types.ObjectId(key.ruleId),
      subject: key.subject,
      occurrenceId: key.occurrenceId,
    }),
  );
}

/**
 * Records one action's outcome; `attempts` counts every try. Action records are stored in action
 * order (index = position), so the update addresses the element by position.
 */
export async function recordAction(
  executionId: string,
  index: number,
  status: ActionStatus,
  at: Date,
  extra: { reason?: string; refs?: Record<string, unknown> } = {},
): Promise<void> {
  const p = `actions.${index}`;
  await ExecutionModel.updateOne(
    { _id: new Types.ObjectId(executionId), [`${p}.index`]: index },
    {
      $set: {
        [`${p}.status`]: status,
        [`${p}.at`]: at,
        ...(extra.reason ? { [`${p}.reason`]: extra.reason } : {}),
        ...(extra.refs ? { [`${p}.refs`]: extra.refs } : {}),
      },
      $inc: { [`${p}.attempts`]: 1 },
    },
  );
}

/** One action's outcome, held until it is written with others (`flushActions`, `finishExecution`). */
export interface ActionRecord {
  index: number;
  status: ActionStatus;
  at: Date;
  reason?: string;
  refs?: Record<string, unknown>;
}

/** The update that records `records` (each action addressed by its position, as `recordAction`). */
function actionsUpdate(records: readonly ActionRecord[]): {
  filter: Record<string, number>;
  set: Record<string, unknown>;
  inc: Record<string, number>;
} {
  const filter: Record<string, number> = {};
  const set: Record<string, unknown> = {};
  const inc: Record<string, number> = {};
  for (const r of records) {
    const p = `actions.${r.index}`;
    filter[`${p}.index`] = r.index;
    set[`${p}.status`] = r.status;
    set[`${p}.at`] = r.at;
    if (r.reason) set[`${p}.reason`] = r.reason;
    if (r.refs) set[`${p}.refs`] = r.refs;
    inc[`${p}.attempts`] = (inc[`${p}.attempts`] ?? 0) + 1;
  }
  return { filter, set, inc };
}

/** Records several actions' outcomes in one write (a failing run keeps what it finished). */
export async function flushActions(executionId: string, records: readonly ActionRecord[]): Promise<void> {
  if (records.length === 0) return;
  const u = actionsUpdate(records);
  await ExecutionModel.updateOne({ _id: new Types.ObjectId(executionId), ...u.filter }, { $set: u.set, $inc: u.inc });
}

/**
 * Closes the execution: `done`, or `skipped` with a reason (conditions failed, opted out ...),
 * with the outcomes of the actions not yet written, in one write.
 */
export async function finishExecution(
  executionId: string,
  status: 'done' | 'skipped',
  reason?: string,
  records: readonly ActionRecord[] = [],
): Promise<void> {
  const u = actionsUpdate(records);
  await ExecutionModel.updateOne(
    { _id: new Types.ObjectId(executionId), ...u.filter },
    {
      $set: { status, ...(reason ? { reason } : {}), ...u.set },
      ...(records.length > 0 ? { $inc: u.inc } : {}),
    },
  );
}

/** The recorded status of one action (a quiet-hours schedule runs only an action still `scheduled`). */
export async function actionStatus(executionId: string, index: number): Promise<ActionStatus | undefined> {
  const doc = await ExecutionModel.findById(executionId, { actions: 1 }).lean();
  return doc?.actions.find((a) => a.index === index)?.status as ActionStatus | undefined;
}
