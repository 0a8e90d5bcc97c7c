import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import { isRetryableWecomError, WecomApiError } from '../../wecom/errors.js';
import { isStaleMediaError, momentErrorWords } from './moment-errors.js';
import { attachmentMediaIdFor } from './moment-media.js';
import { MomentTaskModel, type MomentTaskDocument, type MomentTaskStatus } from './moment-task.model.js';
import { publishMomentTask, publishProgress, remindUnpublished, type MomentAttachments } from './moment.service.js';

export { MOMENT_TASK_STATUSES } from './moment-task.model.js';

/** What the Moments services need for one dealer corp (the worker builds it). */
export interface MomentDeps {
  corpId: string;
  api: CorpApi;
  clock: Clock;
  logger: Logger;
}

/**
 * When the advisors who have not published are reminded (once: WeCom has no reminder API for
 * Moments, so an app message; docs/wecom.md §12.2), and how long a task is tracked at all.
 * Fixed policy (docs/engagement.md), not tuning.
 */
export const MOMENT_TIMING = Object.freeze({ remindAfterMs: 24 * 3600_000, trackForMs: 7 * 86_400_000 });

const OPEN: MomentTaskStatus[] = ['pending', 'creating', 'active'];
const asId = (id: string) => new Types.ObjectId(id);

export interface NewMomentTask {
  name: string;
  /** May be empty when the post has images or a link. */
  text: string;
  tagIds: string[];
  advisors: string[];
  /** Up to 9 image assets (docs/engagement.md, "Moments tasks"), or else `link`. */
  images?: Array<{ assetId: string; contentItemId?: string }>;
  link?: { title: string; url: string; coverAssetId: string; coverContentItemId?: string };
}

/** Stores a Moments task; the worker creates it in WeCom (`moment-create`). */
export async function createMomentTask(
  corpId: string,
  input: NewMomentTask,
  createdBy: string,
  at: Date,
): Promise<string> {
  const doc = await MomentTaskModel.create({ corpId, ...input, status: 'pending', createdBy, requestedAt: at });
  return String(doc._id);
}

export async function findMomentTask(corpId: string, id: string) {
  if (!/^[a-f0-9]{24}$/i.test(id)) return null;
  return MomentTaskModel.findOne({ _id: asId(id), corpId }).lean();
}

export async function listMomentTasks(corpId: string, opts: { status?: MomentTaskStatus; limit: number }) {
  return MomentTaskModel.find({ corpId, ...(opts.status ? { status: opts.status } : {}) })
    .sort({ requestedAt: -1 })
    .limit(opts.limit)
    .lean();
}

/** Open tasks of a corp, oldest first (the tick tracks them). */
export async function openMomentTasks(corpId: string, limit = 100): Promise<string[]> {
  const rows = await MomentTaskModel.find({ corpId, status: { $in: OPEN } }, { _id: 1 })
    .sort({ requestedAt: 1 })
    .limit(limit)
    .lean();
  return rows.map((r) => String(r._id));
}

/**
 * Creates a stored task in WeCom (`add_moment_task`). Its images (or link cover) are uploaded first
 * with `upload_attachment`, before the claim: an upload creates no post, so a retryable upload
 * failure leaves the task `pending` and is thrown for the job's next attempt. Then it is claimed
 * (`pending` → `creating`), so a retried job never creates a second post. WeCom answering an error
 * code created nothing: a retryable one puts the task back to `pending` and is thrown; a stale
 * media id (40007/40145) is re-uploaded and the call made once more; a permanent one is recorded
 * in words (`failed`). A call interrupted without an answer is recorded too, never retried blindly.
 */
export async function startMomentTask(deps: MomentDeps, id: string): Promise<{ status: string }> {
  const t = await MomentTaskModel.findOne({ _id: asId(id), corpId: deps.corpId, status: 'pending' }).lean();
  if (!t) return { status: 'claimed_elsewhere' };
  let attachments: MomentAttachments;
  try {
    attachments = await attachmentsOf(deps, t, false);
  } catch (err) {
    if (isRetryableWecomError(err)) throw err;
    await MomentTaskModel.updateOne(
      { _id: t._id, corpId: deps.corpId, status: 'pending' },
      { $set: { status: 'failed', error: momentErrorWords(err, 'upload_attachment') } },
    );
    return { status: 'failed' };
  }
  const claimed = await MomentTaskModel.updateOne(
    { _id: t._id, corpId: deps.corpId, status: 'pending' },
    { $set: { status: 'creating', startedAt: deps.clock.now() } },
  );
  if (claimed.modifiedCount !== 1) return { status: 'claimed_elsewhere' };
  const step = { now: 'add_moment_task' as 'upload_attachment' | 'add_moment_task' };
  try {
    let jobid: string;
    try {
      jobid = await publishMomentTask(deps.api, {
        advisors: t.advisors,
        tagIds: t.tagIds,
        text: t.text,
        ...attachments,
      });
    } catch (err) {
      if (!isStaleMediaError(err) || !(t.images?.length || t.link)) throw err;
      step.now = 'upload_attachment';
      const fresh = await attachmentsOf(deps, t, true);
      step.now = 'add_moment_task';
      jobid = await publishMomentTask(deps.api, { advisors: t.advisors, tagIds: t.tagIds, text: t.text, ...fresh });
    }
    await MomentTaskModel.updateOne({ _id: t._id, corpId: deps.corpId }, { $set: { jobid } });
    return { status: 'creating' };
  } catch (err) {
    if (err instanceof WecomApiError && err.retryable) {
      await MomentTaskModel.updateOne(
        { _id: t._id, corpId: deps.corpId, status: 'creating' },
        { $set: { status: 'pending' }, $unset: { startedAt: 1 } },
      );
      throw err;
    }
    await MomentTaskModel.updateOne(
      { _id: t._id, corpId: deps.corpId },
      { $set: { status: 'failed', error: momentErrorWords(err, step.now) } },
    );
    return { status: 'failed' };
  }
}

/** The task's images or link cover as Moments attachment media ids of this corp (uploaded when needed). */
async function attachmentsOf(
  deps: MomentDeps,
  t: Pick<MomentTaskDocument, 'images' | 'link'>,
  fresh: boolean,
): Promise<MomentAttachments> {
  const now = deps.clock.now();
  if (t.link)
    return {
      link: {
        title: t.link.title,
        url: t.link.url,
        mediaId: await attachmentMediaIdFor(deps.api, t.link.coverAssetId, now, fresh),
      },
    };
  // Tasks stored before attachments existed have no `images` (a lean read applies no defaults).
  if (!t.images?.length) return {};
  const images: string[] = [];
  for (const img of t.images) images.push(await attachmentMediaIdFor(deps.api, img.assetId, now, fresh));
  return { images };
}

/**
 * One polling step for an open task: a `creating` task learns its `moment_id` from the job
 * (`get_moment_task_result`, valid 24 h); an `active` task records who published and their reach,
 * reminds the rest once after `remindAfterMs`, and is `done` when every advisor published or
 * `ended` after `trackForMs`.
 */
export async function trackMomentTask(deps: MomentDeps, id: string): Promise<{ status: string; reminded?: number }> {
  const now = deps.clock.now();
  const t = await MomentTaskModel.findOne({ _id: asId(id), corpId: deps.corpId }).lean();
  if (!t || !OPEN.includes(t.status)) return { status: t?.status ?? 'missing' };
  const age = now.getTime() - (t.startedAt ?? t.requestedAt).getTime();
  if (t.status === 'pending') {
    try {
      return await startMomentTask(deps, id);
    } catch (err) {
      // Retryable and nothing created: the next tick (or the job's retry) tries again.
      deps.logger.warn({ momentTaskId: id, err: (err as Error).message }, 'moment task creation postponed');
      return { status: 'pending' };
    }
  }
  if (t.status === 'creating') {
    if (!t.jobid) {
      // Claimed but the call never recorded a job: unknown whether WeCom created it.
      if (age < 3600_000) return { status: 'creating' };
      await setStatus(deps, t._id, 'failed', { error: 'add_moment_task outcome unknown; not re-created' });
      return { status: 'failed' };
    }
    const job = await deps.api.getMomentTaskResult(t.jobid);
    if (job.status !== 3) {
      if (age > 24 * 3600_000)
        await setStatus(deps, t._id, 'failed', { error: 'WeCom did not finish the job in 24 h' });
      return { status: 'creating' };
    }
    if (!job.result?.moment_id || (job.result.errcode ?? 0) !== 0) {
      await setStatus(deps, t._id, 'failed', {
        error: `企业微信错误码 ${job.result?.errcode ?? -1}（${job.result?.errmsg ?? 'no moment_id'}）`,
      });
      return { status: 'failed' };
    }
    await setStatus(deps, t._id, 'active', {
      momentId: job.result.moment_id,
      invalidSenders: job.result.invalid_sender_list?.user_list ?? [],
    });
    return trackMomentTask(deps, id);
  }
  const known = new Map(
    t.publishStatus.filter((p) => p.published && p.reach !== undefined).map((p) => [p.userid, p.reach as number]),
  );
  const progress = await publishProgress(deps.api, t.momentId as string, known);
  const before = new Map(t.publishStatus.map((p) => [p.userid, p]));
  const publishStatus = [
    ...progress.published.map((userid) => ({
      userid,
      published: true,
      reach: progress.reach[userid] ?? 0,
      seenPublishedAt: before.get(userid)?.seenPublishedAt ?? now,
    })),
    ...progress.pending.map((userid) => ({ userid, published: false })),
  ];
  const status: MomentTaskStatus =
    progress.pending.length === 0 && progress.published.length > 0
      ? 'done'
      : age >= MOMENT_TIMING.trackForMs
        ? 'ended'
        : 'active';
  await setStatus(deps, t._id, status, { publishStatus, lastPolledAt: now });
  let reminded: number | undefined;
  if (status === 'active' && !t.remindedAt && age >= MOMENT_TIMING.remindAfterMs && progress.pending.length) {
    const claimed = await MomentTaskModel.updateOne(
      { _id: t._id, corpId: deps.corpId, remindedAt: { $exists: false } },
      { $set: { remindedAt: now, reminded: progress.pending } },
    );
    if (claimed.modifiedCount === 1)
      reminded = await remindUnpublished(deps.api, t.momentId as string, progress.pending);
  }
  return { status, ...(reminded !== undefined ? { reminded } : {}) };
}

async function setStatus(
  deps: MomentDeps,
  id: Types.ObjectId,
  status: MomentTaskStatus,
  more: Record<string, unknown> = {},
): Promise<void> {
  await MomentTaskModel.updateOne({ _id: id, corpId: deps.corpId }, { $set: { status, ...more } });
}

/** The cockpit's Moments counts for a period: tasks created, advisors asked, published and the share. */
export async function momentKpis(
  corpId: string,
  period: { from: Date; to: Date },
): Promise<{ tasks: number; advisors: number; published: number; publishedShare: number | null; reach: number }> {
  const rows = await MomentTaskModel.find(
    { corpId, requestedAt: { $gte: period.from, $lt: period.to }, status: { $ne: 'failed' } },
    { advisors: 1, invalidSenders: 1, publishStatus: 1 },
  ).lean();
  let advisors = 0;
  let published = 0;
  let reach = 0;
  for (const r of rows) {
    advisors += r.advisors.filter((a) => !r.invalidSenders.includes(a)).length;
    for (const p of r.publishStatus) {
      if (!p.published) continue;
      published++;
      reach += p.reach ?? 0;
    }
  }
  return {
    tasks: rows.length,
    advisors,
    published,
    publishedShare: advisors ? Math.round((published / advisors) * 1000) / 1000 : null,
    reach,
  };
}
