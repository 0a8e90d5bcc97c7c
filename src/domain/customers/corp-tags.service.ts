import type { CustomerDeps } from './customer-deps.js';
import { readTagGroups, type TagGroupView } from '../corps/corp-read-cache.js';
import { CorpTagGroupModel } from './corp-tag.model.js';

type TagDeps = Pick<CustomerDeps, 'corpId' | 'api' | 'clock' | 'reads'>;

/** The corp's tag groups: the worker's cache when the deps carry it, else MongoDB. */
function tagGroupsOf(deps: Pick<CustomerDeps, 'corpId' | 'reads'>): Promise<TagGroupView[]> {
  return deps.reads ? deps.reads.tagGroups(deps.corpId) : readTagGroups(deps.corpId);
}

/** Replaces the corp's tag cache with WeCom's list (`change_external_tag`, reconciliation). */
export async function refreshCorpTagCache(deps: Pick<CustomerDeps, 'corpId' | 'api' | 'clock'>): Promise<number> {
  const { tag_group: groups } = await deps.api.getCorpTagList();
  const now = deps.clock.now();
  const live = groups.filter((g) => !g.deleted);
  for (const group of live) {
    await CorpTagGroupModel.updateOne(
      { corpId: deps.corpId, groupId: group.group_id },
      {
        $set: {
          groupName: group.group_name,
          order: group.order,
          tags: group.tag.filter((t) => !t.deleted).map((t) => ({ id: t.id, name: t.name, order: t.order })),
          syncedAt: now,
        },
      },
      { upsert: true },
    );
  }
  await CorpTagGroupModel.deleteMany({ corpId: deps.corpId, groupId: { $nin: live.map((g) => g.group_id) } });
  return live.length;
}

/**
 * The tag's name and group, for rules and owner detection. A tag the cache does not know (created
 * in the admin console since the last refresh, callback missed) refreshes the cache once.
 */
export async function describeTag(deps: TagDeps, tagId: string): Promise<{ group: string; name: string } | undefined> {
  const lookup = async () => {
    for (const group of await tagGroupsOf(deps)) {
      const tag = group.tags.find((t) => t.id === tagId);
      if (tag) return { group: group.groupName, name: tag.name };
    }
    return undefined;
  };
  const cached = await lookup();
  if (cached) return cached;
  await refreshCorpTagCache(deps);
  return lookup();
}

/**
 * The ids of the named tags in the named group, created with `add_corp_tag` when missing
 * (docs/wecom.md §3.7). A concurrent creator elsewhere is handled by refreshing once and retrying.
 */
export async function ensureCorpTags(
  deps: TagDeps,
  groupName: string,
  tagNames: readonly string[],
): Promise<Map<string, string>> {
  for (let attempt = 0; ; attempt++) {
    // A write below clears the worker's cache (corp-tag.model.ts), so the next turn reads it anew.
    const group = (await tagGroupsOf(deps)).find((g) => g.groupName === groupName);
    const ids = new Map<string, string>();
    for (const tag of group?.tags ?? []) if (tagNames.includes(tag.name)) ids.set(tag.name, tag.id);
    const missing = tagNames.filter((name) => !ids.has(name));
    if (missing.length === 0) return ids;
    try {
      const created = await deps.api.addCorpTag(
        group
          ? { group_id: group.groupId, tag: missing.map((name) => ({ name })) }
          : { group_name: groupName, tag: missing.map((name) => ({ name })) },
      );
      const g = created.tag_group;
      await CorpTagGroupModel.updateOne(
        { corpId: deps.corpId, groupId: g.group_id },
        {
          $set: { groupName: g.group_name, order: g.order, syncedAt: deps.clock.now() },
          $addToSet: { tags: { $each: g.tag.map((t) => ({ id: t.id, name: t.name, order: t.order })) } },
        },
        { upsert: true },
      );
    } catch (err) {
      if (attempt > 0) throw err;
      await refreshCorpTagCache(deps); // someone else may have created it meanwhile
    }
  }
}
