import type { CorpApi } from '../../wecom/corp-api.js';

export interface MomentProgress {
  momentId: string;
  published: string[];
  pending: string[];
  invalidSenders: string[];
  /** Customers who can see each published advisor's post. */
  reach: Record<string, number>;
}

/** A Moments task's attachments as WeCom media ids: up to 9 images, or one link with its cover. */
export type MomentAttachments =
  | { images: string[]; link?: undefined }
  | { images?: undefined; link: { title: string; url: string; mediaId: string } }
  | { images?: undefined; link?: undefined };

/**
 * A corp Moments task for chosen advisors, visible to customers with the given corp tags
 * (docs/wecom.md §12.1): a text and/or images (≤ 9 attachment media ids) or one link with its cover.
 * Returns WeCom's asynchronous `jobid`.
 */
export async function publishMomentTask(
  api: CorpApi,
  input: { advisors: string[]; tagIds: string[]; text?: string } & MomentAttachments,
): Promise<string> {
  const attachments = input.link
    ? [
        {
          msgtype: 'link' as const,
          link: { title: input.link.title, url: input.link.url, media_id: input.link.mediaId },
        },
      ]
    : (input.images ?? []).map((mediaId) => ({ msgtype: 'image' as const, image: { media_id: mediaId } }));
  const res = await api.addMomentTask({
    ...(input.text ? { text: { content: input.text } } : {}),
    ...(attachments.length ? { attachments } : {}),
    visible_range: {
      sender_list: { user_list: input.advisors },
      ...(input.tagIds.length ? { external_contact_list: { tag_list: input.tagIds } } : {}),
    },
  });
  return res.jobid;
}

/**
 * Who published and who has not (`get_moment_task_result`, then `get_moment_task` and
 * `get_moment_send_result`; docs/wecom.md §12.2); undefined while WeCom is still creating the task.
 */
export async function momentProgress(api: CorpApi, jobid: string): Promise<MomentProgress | undefined> {
  const job = await api.getMomentTaskResult(jobid);
  const momentId = job.result?.moment_id;
  if (job.status !== 3 || !momentId) return undefined;
  return {
    ...(await publishProgress(api, momentId)),
    invalidSenders: job.result?.invalid_sender_list?.user_list ?? [],
  };
}

/**
 * Who of a created task published (`get_moment_task`) and how many customers see each post
 * (`get_moment_send_result`, asked only for advisors not in `knownReach`; docs/wecom.md §12.2).
 */
export async function publishProgress(
  api: CorpApi,
  momentId: string,
  knownReach: ReadonlyMap<string, number> = new Map(),
): Promise<Omit<MomentProgress, 'invalidSenders'>> {
  const rows: Array<{ userid: string; publish_status: number }> = [];
  let cursor: string | undefined;
  do {
    const page = await api.getMomentTask({ moment_id: momentId, limit: 1000, ...(cursor ? { cursor } : {}) });
    rows.push(...page.task_list);
    cursor = page.next_cursor || undefined;
  } while (cursor);
  const published = rows
    .filter((r) => r.publish_status === 1)
    .map((r) => r.userid)
    .sort();
  const reach: Record<string, number> = {};
  for (const userid of published) reach[userid] = knownReach.get(userid) ?? (await reachOf(api, momentId, userid));
  return {
    momentId,
    published,
    pending: rows
      .filter((r) => r.publish_status !== 1)
      .map((r) => r.userid)
      .sort(),
    reach,
  };
}

async function reachOf(api: CorpApi, momentId: string, userid: string): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await api.getMomentSendResult({
      moment_id: momentId,
      userid,
      limit: 5000,
      ...(cursor ? { cursor } : {}),
    });
    n += page.customer_list.length;
    cursor = page.next_cursor || undefined;
  } while (cursor);
  return n;
}

/** No reminder API exists for Moments (docs/wecom.md §12.2): the advisors who have not published get an app message. */
export async function remindUnpublished(api: CorpApi, momentId: string, pending: string[]): Promise<number> {
  if (pending.length === 0) return 0;
  await api.sendMessage({
    touser: pending.join('|'),
    msgtype: 'text',
    text: { content: '有一条企业朋友圈待您发表：请打开企业微信「客户朋友圈」发表。' },
    enable_duplicate_check: 1,
    duplicate_check_interval: 14_400,
  });
  return pending.length;
}
