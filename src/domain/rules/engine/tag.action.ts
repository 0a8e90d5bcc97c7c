import { CorpTagGroupModel } from '../../customers/corp-tag.model.js';
import { ensureCorpTags } from '../../customers/corp-tags.service.js';
import { RelationshipModel } from '../../customers/relationship.model.js';
import type { Action, TagRef } from '../rule.schema.js';
import type { EngineDeps } from './engine-deps.js';

/** Ids of tags to add, created on demand per group (docs/wecom.md §3.7). */
async function idsToAdd(deps: EngineDeps, tags: readonly TagRef[]): Promise<string[]> {
  const byGroup = new Map<string, string[]>();
  for (const t of tags) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t.name]);
  const ids: string[] = [];
  for (const [group, names] of byGroup) ids.push(...(await ensureCorpTags(deps, group, names)).values());
  return ids;
}

/** Ids of tags to remove; a tag that does not exist is simply not on anyone. */
async function idsToRemove(corpId: string, tags: readonly TagRef[]): Promise<string[]> {
  const ids: string[] = [];
  for (const t of tags) {
    const group = await CorpTagGroupModel.findOne({ corpId, groupName: t.group }, { tags: 1 }).lean();
    const tag = group?.tags.find((x) => x.name === t.name);
    if (tag) ids.push(tag.id);
  }
  return ids;
}

/**
 * `tag` action: adds/removes named corp tags on every active relationship of the customer with
 * `mark_tag`, skipping relationships already in the wanted state (a retry finishes what a crash
 * left). API changes produce no callback, so the stored tag ids are updated here.
 */
export async function applyTagAction(
  deps: EngineDeps,
  customerId: string,
  action: Extract<Action, { type: 'tag' }>,
): Promise<{ relationships: number }> {
  const add = await idsToAdd(deps, action.add);
  const remove = await idsToRemove(deps.corpId, action.remove);
  const relationships = await RelationshipModel.find(
    { corpId: deps.corpId, customerId, status: 'active' },
    { userid: 1, externalUserId: 1, tagIds: 1 },
  )
    .sort({ userid: 1 })
    .lean();
  let changed = 0;
  for (const rel of relationships) {
    const has = new Set(rel.tagIds ?? []);
    const addNow = add.filter((id) => !has.has(id));
    const removeNow = remove.filter((id) => has.has(id));
    if (addNow.length === 0 && removeNow.length === 0) continue;
    await deps.api.markTag({
      userid: rel.userid,
      external_userid: rel.externalUserId,
      ...(addNow.length ? { add_tag: addNow } : {}),
      ...(removeNow.length ? { remove_tag: removeNow } : {}),
    });
    await RelationshipModel.updateOne({ _id: rel._id }, { $addToSet: { tagIds: { $each: addNow } } });
    if (removeNow.length) await RelationshipModel.updateOne({ _id: rel._id }, { $pullAll: { tagIds: removeNow } });
    changed++;
  }
  return { relationships: changed };
}
