import { Types } from 'mongoose';
import { corpFilter, type Principal } from '../auth/principal.js';
import { GroupWelcomeTemplateModel } from './group-welcome.model.js';
import { GroupModel } from './group.model.js';

/**
 * Group and welcome-template reads the admin API shares (docs/architecture.md §10: routes call
 * these, never the group models).
 */

export interface GroupListFilter {
  corpId: string;
  status: 'active' | 'dismissed';
  owner?: string;
  purposeTag?: string;
}

/** A corp's groups (members left out), largest first, at most 1,000. */
export function findGroups(f: GroupListFilter) {
  const filter = {
    corpId: f.corpId,
    status: f.status,
    ...(f.owner ? { ownerUserid: f.owner } : {}),
    ...(f.purposeTag ? { purposeTags: f.purposeTag } : {}),
  };
  return GroupModel.find(filter, { members: 0 }).sort({ memberCount: -1, chatId: 1 }).limit(1000).lean().exec();
}

/** The group `chatId` if it belongs to one of the principal's corps, or null. */
export function findGroupFor(p: Principal, chatId: string) {
  return GroupModel.findOne({ $and: [{ chatId }, corpFilter(p)] })
    .lean()
    .exec();
}

/** A corp's welcome templates (deleted ones left out), oldest first. */
export function findWelcomeTemplates(corpId: string) {
  return GroupWelcomeTemplateModel.find({ corpId, deleted: false }).sort({ _id: 1 }).lean().exec();
}

export function countWelcomeTemplates(corpId: string): Promise<number> {
  return GroupWelcomeTemplateModel.countDocuments({ corpId, deleted: false }).exec();
}

/** The corp's (not deleted) template `id`, or null for an unknown or malformed id. */
export async function findWelcomeTemplate(corpId: string, id: string) {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/.test(id)) return null;
  return GroupWelcomeTemplateModel.findOne({ _id: id, corpId, deleted: false }).lean().exec();
}
