import { readTagGroups } from '../../corps/corp-read-cache.js';
import { ensureCorpTags } from '../../customers/corp-tags.service.js';
import { keptRelationshipRows, relationshipRowsKey } from '../../customers/customer-rows.js';
import { RelationshipModel } from '../../customers/relationship.model.js';
import { rememberJobRead } from '../../../infra/job-reads.js';
import type { Action, TagRef } from '../rule.schema.js';
import type { CustomerContext } from '../customer-context.js';
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
async function idsToRemove(deps: EngineDeps, tags: readonly TagRef[]): Promise<string[]> {
  if (tags.length === 0) return [];
  const groups = deps.reads ? await deps.reads.tagGroups(deps.corpId) : await readTagGroups(deps.corpId);
  const ids: string[] = [];
  for (const t of tags) {
    const tag = groups.find((g) => g.groupName === t.group)?.tags.find((x) => x.name === t.name);
    if (tag) ids.push(tag.id);
  }
  return ids;
}

/**
 * `tag` action: adds/removes named corp tags on every active relationship of the customer with
 * `mark_tag`, skipping relationships already in the wanted state (a retry finishes what a crash
 * left). The relationships are the ones the rule's customer context read for this event (not
 * read again, docs/scale.md §4); what is marked here is written to them too, so a later action of
 * the run sees it. API changes produce no callback, so the stored tag ids are updated here.
 */
export async function applyTagAction(
  deps: EngineDeps,
  ctx: Pick<CustomerContext, 'customerId' | 'externalUserId' | 'relationships'>,
  action: Extract<Action, { type: 'tag' }>,
): Promise<{ relationships: number }> {
  const add = await idsToAdd(deps, action.add);
  const remove = await idsToRemove(deps, action.remove);
  const relationships = ctx.relationships
    .filter((r) => r.status === 'active')
    .sort((a, b) => (a.userid < b.userid ? -1 : a.userid > b.userid ? 1 : 0));
  // The job's rows of the customer, when it holds them (the context's own): handed back with the
  // tags written below, so the job's later consumers (lead matching) do not read them again.
  const kept = await keptRelationshipRows(deps.corpId, ctx.customerId);
  const written = new Map<string, { add: string[]; remove: string[] }>();
  let changed = 0;
  for (const rel of relationships) {
    const has = new Set(rel.tagIds);
    const addNow = add.filter((id) => !has.has(id));
    const removeNow = remove.filter((id) => has.has(id));
    if (addNow.length === 0 && removeNow.length === 0) continue;
    await deps.api.markTag({
      userid: rel.userid,
      external_userid: ctx.externalUserId,
      ...(addNow.length ? { add_tag: addNow } : {}),
      ...(removeNow.length ? { remove_tag: removeNow } : {}),
    });
    const pair = { corpId: deps.corpId, userid: rel.userid, externalUserId: ctx.externalUserId };
    if (addNow.length) await RelationshipModel.updateOne(pair, { $addToSet: { tagIds: { $each: addNow } } });
    if (removeNow.length) await RelationshipModel.updateOne(pair, { $pullAll: { tagIds: removeNow } });
    rel.tagIds = [...rel.tagIds.filter((id) => !removeNow.includes(id)), ...addNow];
    written.set(rel.userid, { add: addNow, remove: removeNow });
    changed++;
  }
  if (kept && written.size > 0)
    rememberJobRead(
      relationshipRowsKey(deps.corpId, ctx.customerId),
      kept.map((row) => {
        const w = row.externalUserId === ctx.externalUserId ? written.get(row.userid) : undefined;
        if (!w) return row;
        // As `$pullAll` and `$addToSet` leave the stored list.
        const tagIds = (row.tagIds ?? []).filter((id) => !w.remove.includes(id));
        return { ...row, tagIds: [...tagIds, ...w.add.filter((id) => !tagIds.includes(id))] };
      }),
    );
  return { relationships: changed };
}
