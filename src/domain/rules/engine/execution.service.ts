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
  // corpId first, as every per-corp query (docs/scale.md, "Queries without corpId").
  const filter = {
    corpId: info.corpId,
    ruleId: new Types.ObjectId(key.ruleId),
    subject: key.subject,
    occurrenceId: key.occurrenceId,
  };
  let created = false;
  let doc: ExecutionLean | null;
  try {
    // One command: the record as it is after the upsert, and whether this call created it. Through
    // the driver (docs/scale.md §4): the values are of their stored types and the schema has no
    // hooks, so its defaults and timestamps are written here; a claim of an existing record
    // changes nothing in it.
    const at = new Date();
    const res = await executions().findOneAndUpdate(
      filter,
      {
        $setOnInsert: {
          ruleVersion: info.ruleVersion,
          trigger: info.trigger,
          ...(info.triggerAt ? { triggerAt: info.triggerAt } : {}),
          status: 'running',
          actions: info.actions.map((a, index) => ({ index, type: a.type, status: 'pending', attempts: 0 })),
          createdAt: at,
          updatedAt: at,
        },
      },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true, projection: CLAIM_FIELDS },
    );
    created = res.lastErrorObject?.updatedExisting === false;
    doc = res.value as ExecutionLean | null;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    // A concurrent claim created it first.
    doc = (await executions().findOne(filter, { projection: CLAIM_FIELDS })) as ExecutionLean | null;
  }
  if (!doc) throw new Error('execution record vanished after upsert');
  const open =
    doc.status === 'running'
      ? doc.actions.filter((a) => a.status === 'pending' || a.status === 'failed').map((a) => a.index)
      : [];
  return { id: String(doc._id), ruleVersion: doc.ruleVersion, open, fresh: created };
}

/** The executions through the driver (the model has no hooks; values are written as stored). */
const executions = () => ExecutionModel.collection;
/** What a claim reads back of the record. */
const CLAIM_FIELDS = { status: 1, ruleVersion: 1, 'actions.index': 1, 'actions.status': 1 } as const;

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
  corpId: string,
  executionId: string,
  index: number,
  status: ActionStatus,
  at: Date,
  extra: { reason?: string; refs?: Record<string, unknown> } = {},
): Promise<void> {
  const p = `actions.${index}`;
  await executions().updateOne(
    { _id: new Types.ObjectId(executionId), corpId, [`${p}.index`]: index },
    {
      $set: {
        updatedAt: new Date(),
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
export async function flushActions(
  corpId: string,
  executionId: string,
  records: readonly ActionRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const u = actionsUpdate(records);
  await executions().updateOne(
    { _id: new Types.ObjectId(executionId), corpId, ...u.filter },
    { $set: { updatedAt: new Date(), ...u.set }, $inc: u.inc },
  );
}

/**
 * Closes the execution: `done`, or `skipped` with a reason (conditions failed, opted out ...),
 * with the outcomes of the actions not yet written, in one write.
 */
export async function finishExecution(
  corpId: string,
  executionId: string,
  status: 'done' | 'skipped',
  reason?: string,
  records: readonly ActionRecord[] = [],
): Promise<void> {
  const u = actionsUpdate(records);
  await executions().updateOne(
    { _id: new Types.ObjectId(executionId), corpId, ...u.filter },
    {
      $set: { status, ...(reason ? { reason } : {}), updatedAt: new Date(), ...u.set },
      ...(records.length > 0 ? { $inc: u.inc } : {}),
    },
  );
}

/** The recorded status of one action (a quiet-hours schedule runs only an action still `scheduled`). */
export async function actionStatus(executionId: string, index: number): Promise<ActionStatus | undefined> {
  const doc = await ExecutionModel.findById(executionId, { actions: 1 }).lean();
  return doc?.actions.find((a) => a.index === index)?.status as ActionStatus | undefined;
}

/** The outcome of a run recorded without a claim (`recordExecution`). */
export interface ExecutionOutcome {
  status: 'running' | 'done' | 'skipped';
  reason?: string;
  records?: readonly ActionRecord[];
  /** Leave any existing record unchanged (a skip by conditions: a running one is resumed instead). */
  insertOnly?: boolean;
}

/**
 * Records a run that took no claim (docs/rules.md, "Executions"): every action is safe to repeat,
 * so they ran first and the record is written now, in one command. Absent, it is inserted as a
 * claim and a finish would have left it; a `done` or `skipped` one (a replay, a concurrent run)
 * stays as it is; a `running` one (a failed try) takes the outcome. Returns the status the
 * record had before (undefined: this call created it).
 */
export async function recordExecution(
  key: ExecutionKey,
  info: { corpId: string; ruleVersion: number; trigger: string; triggerAt?: Date; actions: readonly Action[] },
  outcome: ExecutionOutcome,
): Promise<string | undefined> {
  // corpId first, as every per-corp query (docs/scale.md, "Queries without corpId").
  const filter = {
    corpId: info.corpId,
    ruleId: new Types.ObjectId(key.ruleId),
    subject: key.subject,
    occurrenceId: key.occurrenceId,
  };
  const records = outcome.records ?? [];
  const at = new Date();
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const extraOf = (r: ActionRecord) => ({
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.refs ? { refs: r.refs } : {}),
  });
  // The actions as a claim then a finish store them.
  const fresh = info.actions.map((a, index) => {
    const r = byIndex.get(index);
    return r
      ? { index, type: a.type, status: r.status, attempts: 1, at: r.at, ...extraOf(r) }
      : { index, type: a.type, status: 'pending', attempts: 0 };
  });
  const exists = { $ne: [{ $type: '$status' }, 'missing'] };
  const keep = outcome.insertOnly ? exists : { $in: ['$status', ['done', 'skipped']] };
  // A running record's actions take the outcomes by index, as `finishExecution` writes them.
  const merged =
    records.length === 0
      ? '$actions'
      : {
          $map: {
            input: '$actions',
            as: 'a',
            in: {
              $switch: {
                branches: records.map((r) => ({
                  case: { $eq: ['$$a.index', r.index] },
                  then: {
                    $mergeObjects: [
                      '$$a',
                      { $literal: { status: r.status, at: r.at, ...extraOf(r) } },
                      { attempts: { $add: [{ $ifNull: ['$$a.attempts', 0] }, 1] } },
                    ],
                  },
                })),
                default: '$$a',
              },
            },
          },
        };
  // One pipeline update: values are wrapped in $literal (a string is never read as a field path).
  const update = [
    {
      $set: {
        ruleVersion: { $cond: [exists, '$ruleVersion', { $literal: info.ruleVersion }] },
        trigger: { $cond: [exists, '$trigger', { $literal: info.trigger }] },
        ...(info.triggerAt ? { triggerAt: { $cond: [exists, '$triggerAt', { $literal: info.triggerAt }] } } : {}),
        status: { $cond: [keep, '$status', { $literal: outcome.status }] },
        ...(outcome.reason ? { reason: { $cond: [keep, '$reason', { $literal: outcome.reason }] } } : {}),
        actions: { $cond: [keep, '$actions', { $cond: [exists, merged, { $literal: fresh }] }] },
        createdAt: { $cond: [exists, '$createdAt', { $literal: at }] },
        updatedAt: { $cond: [keep, '$updatedAt', { $literal: at }] },
      },
    },
  ];
  const write = () =>
    executions().findOneAndUpdate(filter, update, {
      upsert: true,
      returnDocument: 'before',
      projection: { status: 1 },
    });
  let before: { status?: string } | null;
  try {
    before = (await write()) as { status?: string } | null;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    // A concurrent run inserted it first: now it exists.
    before = (await write()) as { status?: string } | null;
  }
  return before?.status ?? undefined;
}
