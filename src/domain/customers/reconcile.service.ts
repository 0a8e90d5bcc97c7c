import type { Redis } from 'ioredis';
import { refreshDirectory } from './advisor-directory.service.js';
import { refreshCorpTagCache } from './corp-tags.service.js';
import type { CustomerDeps } from './customer-deps.js';
import { applyContactSnapshot, refreshCustomerFromWecom } from './customer-refresh.service.js';
import { RelationshipModel } from './relationship.model.js';

/** `batch/get_by_user` takes at most 100 userids per call (docs/wecom.md §3.3). */
const USERIDS_PER_CALL = 100;

export interface ReconcileSummary {
  members: number;
  tagGroups: number;
  advisors: number;
  pages: number;
  relationshipsSeen: number;
  added: number;
  tagChanges: number;
  ended: number;
  resumed: boolean;
}

export interface ReconcileOptions {
  /** Names this run; event source ids derive from it, so a resumed run does not emit twice. */
  runId: string;
  /** Redis for cursor checkpoints (resume after a crash); omit for a one-shot run. */
  checkpoint?: { redis: Redis; key: string };
  onPage?: (summary: ReconcileSummary) => void;
}

interface Checkpoint {
  runId: string;
  chunk: number;
  cursor: string;
}

/**
 * Makes MongoDB equal WeCom for one corp (the sync and the nightly reconciliation): members,
 * tags, then every relationship of every advisor with customer contact through
 * `batch/get_by_user` (≤100 advisors per call, cursor paging, checkpointed so a crash resumes
 * where it stopped), then relationships WeCom no longer lists (`externalcontact/list` per
 * advisor, confirmed by a full refetch). Emits the same domain events callbacks would have, and
 * nothing for unchanged state.
 */
export async function reconcileCorp(deps: CustomerDeps, opts: ReconcileOptions): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = {
    members: 0,
    tagGroups: 0,
    advisors: 0,
    pages: 0,
    relationshipsSeen: 0,
    added: 0,
    tagChanges: 0,
    ended: 0,
    resumed: false,
  };
  const saved = await readCheckpoint(opts);
  summary.resumed = saved !== undefined;
  const runId = saved?.runId ?? opts.runId;

  if (!saved) {
    summary.members = (await refreshDirectory(deps)).members;
    summary.tagGroups = await refreshCorpTagCache(deps);
  }
  const { follow_user: advisors } = await deps.api.getFollowUserList();
  summary.advisors = advisors.length;
  const chunks: string[][] = [];
  for (let i = 0; i < advisors.length; i += USERIDS_PER_CALL) chunks.push(advisors.slice(i, i + USERIDS_PER_CALL));

  const eventAt = deps.clock.now();
  for (let chunk = saved?.chunk ?? 0; chunk < chunks.length; chunk++) {
    let cursor = chunk === saved?.chunk ? saved.cursor : '';
    do {
      const page = await deps.api.batchGetByUser({
        userid_list: chunks[chunk] as string[],
        cursor: cursor || undefined,
        limit: 100,
      });
      for (const entry of page.external_contact_list) {
        const applied = await applyContactSnapshot(
          deps,
          { contact: entry.external_contact, followUsers: [entry.follow_info] },
          {
            externalUserId: entry.external_contact.external_userid,
            sourceId: `reconcile-${runId}`,
            eventAt,
            scope: new Set([entry.follow_info.userid]),
          },
        );
        summary.relationshipsSeen++;
        summary.added += applied.added.length;
        summary.tagChanges += applied.tagChanges.length;
      }
      cursor = page.next_cursor ?? '';
      summary.pages++;
      await writeCheckpoint(opts, { runId, chunk: cursor ? chunk : chunk + 1, cursor });
      opts.onPage?.(summary);
    } while (cursor);
  }

  // Relationships we hold as active that an advisor's list no longer has: refetch the customer.
  for (const userid of advisors) {
    const listed = new Set((await deps.api.listExternalContacts(userid)).external_userid);
    const stored = await RelationshipModel.find(
      { corpId: deps.corpId, userid, status: 'active' },
      { externalUserId: 1 },
    ).lean();
    for (const rel of stored.filter((r) => !listed.has(r.externalUserId))) {
      const refreshed = await refreshCustomerFromWecom(deps, {
        externalUserId: rel.externalUserId,
        sourceId: `reconcile-${runId}`,
        eventAt,
      });
      summary.ended += refreshed.vanishedUserids.length;
    }
  }
  if (opts.checkpoint) await opts.checkpoint.redis.del(opts.checkpoint.key);
  return summary;
}

async function readCheckpoint(opts: ReconcileOptions): Promise<Checkpoint | undefined> {
  if (!opts.checkpoint) return undefined;
  const raw = await opts.checkpoint.redis.get(opts.checkpoint.key);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<Checkpoint>;
    return typeof parsed.runId === 'string' && Number.isInteger(parsed.chunk) && typeof parsed.cursor === 'string'
      ? (parsed as Checkpoint)
      : undefined;
  } catch {
    return undefined;
  }
}

async function writeCheckpoint(opts: ReconcileOptions, value: Checkpoint): Promise<void> {
  if (opts.checkpoint) await opts.checkpoint.redis.set(opts.checkpoint.key, JSON.stringify(value), 'EX', 24 * 3600);
}

/** The checkpoint key of a corp's reconciliation. */
export const reconcileCheckpointKey = (prefix: string, corpId: string): string => `${prefix}:reconcile:${corpId}`;
