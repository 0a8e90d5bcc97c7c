import { Types } from 'mongoose';
import type { Action } from '../rule.schema.js';
import { ExecutionModel, type ActionStatus } from './execution.model.js';

export interface ExecutionKey {
  ruleId: string;
  subject: string;
  occurrenceId: string;
}

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
  try {
    const res = await ExecutionModel.updateOne(
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
      { upsert: true },
    );
    created = res.upsertedCount > 0;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  const doc = await ExecutionModel.findOne(filter).lean();
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

/** Closes the execution: `done`, or `skipped` with a reason (conditions failed, opted out ...). */
export async function finishExecution(executionId: string, status: 'done' | 'skipped', reason?: string): Promise<void> {
  await ExecutionModel.updateOne(
    { _id: new Types.ObjectId(executionId) },
    { $set: { status, ...(reason ? { reason } : {}) } },
  );
}

/**
 * The welcome lane's execution record, written in one upsert after `send_welcome_msg` answered
 * (src/domain/rules/welcome.ts): the first welcome action with its outcome; further welcome
 * actions of the rule are skipped (one welcome per add). The execution ends with the action.
 */
export async function recordWelcome(input: {
  key: ExecutionKey;
  corpId: string;
  ruleVersion: number;
  actionCount: number;
  status: 'done' | 'skipped';
  at: Date;
  reason?: string;
  refs?: Record<string, unknown>;
}): Promise<void> {
  const actions = Array.from({ length: input.actionCount }, (_, index) =>
    index === 0
      ? {
          index,
          type: 'welcome',
          status: input.status,
          attempts: 1,
          at: input.at,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.refs ? { refs: input.refs } : {}),
        }
      : { index, type: 'welcome', status: 'skipped', attempts: 0, reason: 'one welcome per add' },
  );
  await ExecutionModel.updateOne(
    { ruleId: new Types.ObjectId(input.key.ruleId), subject: input.key.subject, occurrenceId: input.key.occurrenceId },
    {
      $set: { status: input.status, actions, ...(input.reason ? { reason: input.reason } : {}) },
      $setOnInsert: { corpId: input.corpId, ruleVersion: input.ruleVersion, trigger: 'customer.added' },
    },
    { upsert: true },
  );
}

/** The recorded status of one action (a quiet-hours schedule runs only an action still `scheduled`). */
export async function actionStatus(executionId: string, index: number): Promise<ActionStatus | undefined> {
  const doc = await ExecutionModel.findById(executionId, { actions: 1 }).lean();
  return doc?.actions.find((a) => a.index === index)?.status as ActionStatus | undefined;
}
