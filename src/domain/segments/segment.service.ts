import { Types } from 'mongoose';
import { ConflictError, NotFoundError } from '../../infra/errors.js';
import { BroadcastModel } from '../broadcasts/broadcast.model.js';
import type { Conditions } from '../rules/rule.schema.js';
import { SegmentModel } from './segment.model.js';
import type { SegmentInput, SegmentUpdate } from './segment.schema.js';

/** A saved segment as the API and the console see it. */
export interface SegmentView {
  id: string;
  corpId: string;
  name: string;
  conditions: Conditions;
  createdBy: string;
  updatedBy?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

type SegmentLean = {
  _id: Types.ObjectId;
  corpId: string;
  name: string;
  conditions?: unknown;
  createdBy: string;
  updatedBy?: string | null;
  createdAt?: Date;
  updatedAt?: Date;
};

const view = (d: SegmentLean): SegmentView => ({
  id: String(d._id),
  corpId: d.corpId,
  name: d.name,
  conditions: (d.conditions ?? {}) as Conditions,
  createdBy: d.createdBy,
  ...(d.updatedBy ? { updatedBy: d.updatedBy } : {}),
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

const notFound = (id: string) =>
  new NotFoundError(`no segment ${id} (list them with GET /api/v1/segments)`, 'segment_not_found');
const oid = (id: string) => (/^[a-f0-9]{24}$/.test(id) ? new Types.ObjectId(id) : undefined);
const duplicate = (corpId: string, name: string) =>
  new ConflictError(`corp ${corpId} already has a segment named "${name}"; pick another name`, 'segment_name_taken');
const isDuplicateKey = (err: unknown) => (err as { code?: number } | null)?.code === 11000;

/** The live segments of some corps (`corpFilter` of the principal, or one corp), by name. */
export async function listSegments(corps: Record<string, unknown>): Promise<SegmentView[]> {
  const rows = await SegmentModel.find({ ...corps, deleted: false })
    .sort({ name: 1 })
    .limit(500)
    .lean();
  return rows.map((r) => view(r as SegmentLean));
}

/** One live segment by id within some corps (the principal's `corpFilter`), or null. */
export async function findVisibleSegment(corps: Record<string, unknown>, id: string): Promise<SegmentView | null> {
  const _id = oid(id);
  if (!_id) return null;
  const d = await SegmentModel.findOne({ ...corps, _id, deleted: false }).lean();
  return d ? view(d as SegmentLean) : null;
}

/** One live segment of a corp, or null. */
export async function findSegment(corpId: string, id: string): Promise<SegmentView | null> {
  const _id = oid(id);
  if (!_id) return null;
  const d = await SegmentModel.findOne({ _id, corpId, deleted: false }).lean();
  return d ? view(d as SegmentLean) : null;
}

export async function createSegment(input: SegmentInput, by: string): Promise<SegmentView> {
  try {
    const d = await SegmentModel.create({ ...input, createdBy: by, updatedBy: by, deleted: false });
    return view(d.toObject() as SegmentLean);
  } catch (err) {
    if (isDuplicateKey(err)) throw duplicate(input.corpId, input.name);
    throw err;
  }
}

export async function updateSegment(
  corpId: string,
  id: string,
  patch: SegmentUpdate,
  by: string,
): Promise<SegmentView> {
  const _id = oid(id);
  if (!_id) throw notFound(id);
  try {
    const d = await SegmentModel.findOneAndUpdate(
      { _id, corpId, deleted: false },
      {
        $set: {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.conditions !== undefined ? { conditions: patch.conditions } : {}),
          updatedBy: by,
        },
      },
      { returnDocument: 'after' },
    ).lean();
    if (!d) throw notFound(id);
    return view(d as SegmentLean);
  } catch (err) {
    if (isDuplicateKey(err)) throw duplicate(corpId, patch.name ?? '');
    throw err;
  }
}

/**
 * Soft-deletes a segment. A broadcast still waiting to be sent resolves its segment at send time
 * (docs/engagement.md), so a segment one of them names is refused with a 409 naming them.
 */
export async function deleteSegment(corpId: string, id: string, by: string, at: Date): Promise<SegmentView> {
  const current = await findSegment(corpId, id);
  if (!current) throw notFound(id);
  const waiting = await BroadcastModel.find(
    { corpId, 'audience.segmentId': id, status: { $in: ['pending_approval', 'approved'] } },
    { name: 1 },
  )
    .limit(5)
    .lean();
  if (waiting.length)
    throw new ConflictError(
      `segment ${id} is the audience of broadcasts not yet sent (${waiting.map((b) => `${b.name} ${String(b._id)}`).join(', ')}); cancel them or let them send first`,
      'segment_in_use',
    );
  await SegmentModel.updateOne({ _id: oid(id), corpId }, { $set: { deleted: true, deletedAt: at, updatedBy: by } });
  return current;
}

/**
 * The conditions a segment audience means now: the saved segment's when it names one that is
 * still there, else the conditions stored with the audience (the snapshot taken when the
 * broadcast was created).
 */
export async function segmentConditionsNow(
  corpId: string,
  audience: { segmentId?: string; conditions: Conditions },
): Promise<Conditions> {
  if (!audience.segmentId) return audience.conditions;
  const s = await findSegment(corpId, audience.segmentId);
  return s ? s.conditions : audience.conditions;
}
