import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { ScheduleModel, type ScheduleKind } from './schedule.model.js';

export interface PlanInput {
  corpId: string;
  customerId: string | Types.ObjectId;
  ruleId?: string | Types.ObjectId;
  ruleVersion?: number;
  kind: ScheduleKind;
  actionIndex?: number;
  occurrenceId: string;
  dueAt: Date;
  anchor?: { field: string; vin?: string; value?: string };
  advisorUserid?: string;
  /** Ids and non-personal settings only (it ends up in job data). */
  payload?: Record<string, unknown>;
}

/** The business identity of a schedule: planning the same thing twice finds the same document. */
export function scheduleKey(
  input: Pick<PlanInput, 'corpId' | 'customerId' | 'ruleId' | 'kind' | 'actionIndex' | 'occurrenceId'>,
): string {
  const raw = [
    input.corpId,
    String(input.customerId),
    String(input.ruleId ?? ''),
    input.kind,
    String(input.actionIndex ?? ''),
    input.occurrenceId,
  ].join('\u0000');
  return createHash('sha256').update(raw).digest('base64url').slice(0, 32);
}

/**
 * Plans (or re-plans) work due later. Idempotent by key: a planned schedule gets the new time
 * (that is how a corrected anchor moves it); one already enqueued, fired or cancelled is left as
 * it is (an occurrence never fires twice). Returns the schedule id and whether it is planned now.
 */
/** `findOneAndUpdate` with `includeResultMetadata`: the document and whether it existed. */
interface UpsertResult {
  value: { _id: unknown; status?: string | null } | null;
  lastErrorObject?: { updatedExisting?: boolean };
}

export async function planSchedule(input: PlanInput): Promise<{ id: string; planned: boolean }> {
  const key = scheduleKey(input);
  const { corpId } = input;
  const set = {
    dueAt: input.dueAt,
    ruleVersion: input.ruleVersion,
    anchor: input.anchor,
    advisorUserid: input.advisorUserid,
    payload: input.payload ?? {},
  };
  // Through the driver (docs/scale.md §4): the values are of their stored types and the schema has
  // no hooks, so its timestamps are written here; an undefined value is left out, as the model
  // leaves it out. corpId with the key, as every per-corp query (docs/scale.md, "Queries without corpId").
  const schedules = ScheduleModel.collection;
  // Most plans are new (one command); an existing planned one is then moved, a fired or
  // cancelled one stays as it is.
  let existing: { _id: unknown; status?: string | null } | null;
  try {
    const at = new Date();
    const upserted = (await schedules.findOneAndUpdate(
      { key, corpId },
      {
        $setOnInsert: {
          ...set,
          customerId: new Types.ObjectId(String(input.customerId)),
          ruleId: input.ruleId ? new Types.ObjectId(String(input.ruleId)) : undefined,
          kind: input.kind,
          actionIndex: input.actionIndex,
          occurrenceId: input.occurrenceId,
          status: 'planned',
          createdAt: at,
          updatedAt: at,
        },
      },
      {
        upsert: true,
        returnDocument: 'after',
        projection: { _id: 1, status: 1 },
        includeResultMetadata: true,
        ignoreUndefined: true,
      },
    )) as unknown as UpsertResult;
    if (!upserted.lastErrorObject?.updatedExisting)
      return { id: String(upserted.value?._id), planned: upserted.value?.status === 'planned' };
    existing = upserted.value;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    existing = await schedules.findOne({ key, corpId }, { projection: { _id: 1, status: 1 } });
  }
  if (existing?.status !== 'planned') return { id: String(existing?._id), planned: false };
  const moved = await schedules.findOneAndUpdate(
    { key, corpId, status: 'planned' },
    { $set: { ...set, updatedAt: new Date() } },
    { returnDocument: 'after', projection: { _id: 1 }, ignoreUndefined: true },
  );
  return { id: String(moved?._id ?? existing._id), planned: Boolean(moved) };
}

/**
 * Cancels planned schedules of a rule for one customer's anchor whose key is not in `keep`
 * (a corrected insurance date is a new occurrence: the old one goes away).
 */
export async function cancelStaleAnchorSchedules(
  filter: { corpId: string; customerId: string; ruleId: string; field: string; vin?: string },
  keep: string[],
  at: Date,
): Promise<number> {
  const result = await ScheduleModel.updateMany(
    {
      corpId: filter.corpId,
      customerId: new Types.ObjectId(filter.customerId),
      ruleId: new Types.ObjectId(filter.ruleId),
      status: 'planned',
      'anchor.field': filter.field,
      ...(filter.vin ? { 'anchor.vin': filter.vin } : {}),
      key: { $nin: keep },
    },
    { $set: { status: 'cancelled', cancelledAt: at, cancelReason: 'anchor_changed' } },
  );
  return result.modifiedCount;
}

/** Cancels open (planned) schedules of a customer, e.g. on `customer.lost`; optionally one advisor's only. */
export async function cancelCustomerSchedules(
  corpId: string,
  customerId: string,
  reason: string,
  at: Date,
  advisorUserid?: string,
): Promise<number> {
  const result = await ScheduleModel.updateMany(
    {
      corpId,
      customerId: new Types.ObjectId(customerId),
      status: 'planned',
      ...(advisorUserid ? { advisorUserid } : {}),
    },
    { $set: { status: 'cancelled', cancelledAt: at, cancelReason: reason } },
  );
  return result.modifiedCount;
}

/** Moves open schedules of a customer from one advisor to another (`relationship.transferred`). */
export async function rehomeCustomerSchedules(
  corpId: string,
  customerId: string,
  fromUserid: string,
  toUserid: string,
): Promise<number> {
  const result = await ScheduleModel.updateMany(
    { corpId, customerId: new Types.ObjectId(customerId), status: 'planned', advisorUserid: fromUserid },
    { $set: { advisorUserid: toUserid } },
  );
  return result.modifiedCount;
}

/** Marks a schedule fired (the executor calls this once its work is done). */
export async function markScheduleFired(id: string, at: Date): Promise<void> {
  await ScheduleModel.updateOne(
    { _id: new Types.ObjectId(id), status: { $in: ['planned', 'enqueued'] } },
    { $set: { status: 'fired', firedAt: at } },
  );
}
