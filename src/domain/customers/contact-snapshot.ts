import type { ExternalContact, FollowInfo, FollowUser } from '../../wecom/endpoints/external-contact.js';
import { customerCtx, relationshipCtx, type PersonalData } from './personal-data.js';

/** Relationship fields as stored, derived from WeCom's follow_user / follow_info entry (docs/wecom.md §6.3). */
export interface RelationshipSnapshot {
  userid: string;
  state?: string;
  addWay: number;
  addedAt: Date;
  remarkEnc?: string;
  remarkHash?: string;
  descriptionEnc?: string;
  remarkMobilesEnc: string[];
  remarkMobileHashes: string[];
  /** Corp tag ids only: personal tags (type 2) have no id and are ignored. */
  tagIds: string[];
}

export interface CustomerSnapshot {
  externalUserId: string;
  type: 1 | 2;
  nameEnc?: string;
  nameHash?: string;
  unionidEnc?: string;
  unionidHash?: string;
}

/**
 * Seals the customer's identifiers from `externalcontact/get` (docs/wecom.md §3.2), each bound to
 * `customers/<field>/<corpId>:<externalUserId>` (docs/security.md "Data at rest and in transit").
 */
export function customerSnapshot(contact: ExternalContact, pd: PersonalData, corpId: string): CustomerSnapshot {
  const at = { corpId, externalUserId: contact.external_userid };
  const name = pd.sealSearchableFor(customerCtx(at, 'nameEnc'), 'name', contact.name);
  const unionid = pd.sealSearchableFor(customerCtx(at, 'unionidEnc'), 'unionid', contact.unionid);
  return {
    externalUserId: contact.external_userid,
    type: contact.type === 2 ? 2 : 1,
    nameEnc: name.enc,
    nameHash: name.hash,
    unionidEnc: unionid.enc,
    unionidHash: unionid.hash,
  };
}

/**
 * Seals one advisor's view of the customer; accepts both `get` (tags[]) and `batch/get_by_user`
 * (tag_id[]) shapes. Values are bound to `relationships/<field>/<corpId>:<externalUserId>:<userid>`
 * (docs/security.md "Data at rest and in transit").
 */
export function relationshipSnapshot(
  follow: FollowUser | FollowInfo,
  pd: PersonalData,
  at: { corpId: string; externalUserId: string },
): RelationshipSnapshot {
  const key = { ...at, userid: follow.userid };
  const remark = pd.sealSearchableFor(relationshipCtx(key, 'remarkEnc'), 'remark', follow.remark);
  const mobiles = [...new Set((follow.remark_mobiles ?? []).filter((m) => m.trim() !== ''))];
  const tagIds =
    'tag_id' in follow
      ? follow.tag_id
      : (follow.tags ?? []).filter((t) => t.type !== 2 && t.tag_id).map((t) => t.tag_id as string);
  return {
    userid: follow.userid,
    state: follow.state || undefined,
    addWay: Number.isInteger(follow.add_way) ? follow.add_way : 0,
    addedAt: new Date((follow.createtime || 0) * 1000),
    remarkEnc: remark.enc,
    remarkHash: remark.hash,
    descriptionEnc: pd.sealFor(relationshipCtx(key, 'descriptionEnc'), follow.description),
    remarkMobilesEnc: mobiles.map((m) => pd.sealFor(relationshipCtx(key, 'remarkMobilesEnc'), m) as string),
    remarkMobileHashes: mobiles.map((m) => pd.hash('mobile', m)),
    tagIds: [...new Set(tagIds)].sort(),
  };
}

/** Which corp tags appeared and disappeared between two states of one relationship. */
export function diffTags(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const was = new Set(before);
  const now = new Set(after);
  return {
    added: [...now].filter((id) => !was.has(id)).sort(),
    removed: [...was].filter((id) => !now.has(id)).sort(),
  };
}

export interface RelationshipForResponsibility {
  userid: string;
  status: string;
  addedAt?: Date | null;
}

/**
 * The responsible advisor (docs/architecture.md §4): the vehicle's sales advisor when a vehicle names one and
 * that advisor still has an active relationship, else the advisor of the most recent active
 * relationship; undefined when none is active.
 */
export function chooseResponsibleAdvisor(
  relationships: readonly RelationshipForResponsibility[],
  vehicleSalesUserids: readonly string[] = [],
): string | undefined {
  const active = relationships.filter((r) => r.status === 'active');
  const activeIds = new Set(active.map((r) => r.userid));
  const seller = vehicleSalesUserids.find((userid) => activeIds.has(userid));
  if (seller) return seller;
  const newest = [...active].sort(
    (a, b) => (b.addedAt?.getTime() ?? 0) - (a.addedAt?.getTime() ?? 0) || a.userid.localeCompare(b.userid),
  )[0];
  return newest?.userid;
}
