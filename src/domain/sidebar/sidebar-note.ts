import { ForbiddenError } from '../../infra/errors.js';
import { CustomerModel } from '../customers/customer.model.js';
import { relationshipCtx, type PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';

/** Longest note kept; a note is a reminder for the next conversation, not a file. */
export const NOTE_MAX_CHARS = 1000;

export interface AdvisorNote {
  /** The note's text; absent when there is none (or the customer was erased). */
  text?: string;
  /** Whose relationship it belongs to (a WeCom userid). */
  userid: string;
  updatedAt?: Date;
  /** Whether the viewer may change it: only the advisor whose note it is. */
  editable: boolean;
}

interface NoteKey {
  corpId: string;
  externalUserId: string;
}

/**
 * The advisor's note about a customer (docs/console.md, "Advisor sidebar", decision): one per
 * relationship, i.e. per advisor and customer, like WeCom's own remark and description. It is
 * that advisor's working memory; it does not follow the customer to another advisor on a
 * transfer, and a manager reads the note of the relationship the view shows (their own, else the
 * responsible advisor's) without editing it. Sealed at rest, bound to the relationship.
 */
export async function readNote(
  pd: PersonalData,
  key: NoteKey,
  owner: string,
  viewer: string | undefined,
): Promise<AdvisorNote> {
  const rel = await RelationshipModel.findOne(
    { corpId: key.corpId, externalUserId: key.externalUserId, userid: owner },
    { noteEnc: 1, noteUpdatedAt: 1 },
  ).lean();
  return noteOf(pd, key, { userid: owner, ...rel }, viewer);
}

/** A relationship's note as the viewer sees it (the relationship already loaded). */
export function noteOf(
  pd: PersonalData,
  key: NoteKey,
  rel: { userid: string; noteEnc?: string | null; noteUpdatedAt?: Date | null },
  viewer: string | undefined,
): AdvisorNote {
  const text = rel.noteEnc
    ? pd.openFor(relationshipCtx({ ...key, userid: rel.userid }, 'noteEnc'), rel.noteEnc)
    : undefined;
  return {
    ...(text ? { text } : {}),
    userid: rel.userid,
    ...(rel.noteUpdatedAt ? { updatedAt: rel.noteUpdatedAt } : {}),
    editable: rel.userid === viewer,
  };
}

/**
 * The note a viewer sees: their own relationship's when they follow the customer (`own`), else
 * the responsible advisor's (read-only). Undefined when there is no such relationship.
 */
export async function noteForViewer(
  pd: PersonalData,
  key: NoteKey,
  viewer: string | undefined,
  own: boolean,
): Promise<AdvisorNote | undefined> {
  const owner =
    own && viewer
      ? viewer
      : ((await CustomerModel.findOne(key, { responsibleUserid: 1 }).lean())?.responsibleUserid ?? undefined);
  return owner ? readNote(pd, key, owner, viewer) : undefined;
}

/**
 * Writes (or, with an empty text, clears) the signed-in advisor's note on their **active**
 * relationship with the customer; anyone else gets 403 `note_not_yours`.
 */
export async function writeNote(
  pd: PersonalData,
  key: NoteKey,
  userid: string,
  text: string,
  at: Date,
): Promise<AdvisorNote> {
  const sealed = pd.sealFor(relationshipCtx({ ...key, userid }, 'noteEnc'), text.trim());
  const res = await RelationshipModel.updateOne(
    { corpId: key.corpId, externalUserId: key.externalUserId, userid, status: 'active' },
    sealed ? { $set: { noteEnc: sealed, noteUpdatedAt: at } } : { $unset: { noteEnc: 1 }, $set: { noteUpdatedAt: at } },
  );
  if (res.matchedCount === 0)
    throw new ForbiddenError(
      'a note belongs to your own relationship with the customer: only an advisor who follows them writes one',
      'note_not_yours',
    );
  return { ...(sealed ? { text: text.trim() } : {}), userid, updatedAt: at, editable: true };
}
