import { Types } from 'mongoose';
import { MediaAssetModel } from '../messages/media-asset.model.js';
import { MEDIA_REFRESH_MS } from '../messages/media.service.js';
import { inActiveWindow } from '../rules/engine/rule-finder.js';
import { RuleModel } from '../rules/rule.model.js';
import type { RuleBody } from '../rules/rule.schema.js';
import type { SidebarSendKind } from '../sidebar/sidebar-send.js';
import { renderTalkTrack } from '../tasks/task-card.js';
import { ContentItemModel } from './content-item.model.js';
import type { ContentItemLean } from './content.service.js';

/** The message `sendChatMessage` takes (docs/wecom.md §10.4), one per library kind. */
export type ChatMessage =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'news'; news: { link: string; title: string; desc?: string; imgUrl?: string } }
  | { msgtype: 'miniprogram'; miniprogram: { appid: string; title: string; imgUrl: string; page: string } }
  | { msgtype: 'image'; image: { mediaid: string } };

/** One library item as the sidebar offers it for one customer: rendered, ready to send. */
export interface SidebarContentItem {
  id: string;
  kind: string;
  title: string;
  /** The rendered text (talk track) or description (article), for the advisor to read first. */
  preview?: string;
  /** What the page passes to `sendChatMessage`; absent when the item cannot be sent yet (see `unavailable`). */
  message?: ChatMessage;
  /** The kind the send is recorded under (`POST /api/v1/sidebar/sends`). */
  sendKind: SidebarSendKind;
  /** `image_not_uploaded`: the image has no current WeCom media id in this corp yet. */
  unavailable?: string;
  /** With `image_not_uploaded`: the image to upload (the sidebar asks the worker for it). */
  assetId?: string;
}

export interface ContentAudience {
  corpId: string;
  stage: string;
  /** The customer's vehicle models. */
  models: readonly string[];
  /** The talk-track variables (docs/tasks.md): the customer as the advisor calls them, the model, the advisor. */
  vars: { customer: string; model?: string; advisorName: string };
  now: Date;
}

const MAX_ITEMS = 30;
const SEND_KIND: Record<string, SidebarSendKind> = {
  talk_track: 'talk_track',
  article: 'news',
  image: 'image',
  miniprogram: 'miniprogram',
};

/** Items of the corp and of the car maker (`all`), not deleted. */
const inCorp = (corpId: string) => ({ scope: { $in: ['all', corpId] }, deletedAt: { $exists: false } });

/**
 * The library items the sidebar offers for one customer (docs/console.md, "Content library"):
 * those of the corp and the car maker whose stages include the customer's lifecycle stage, whose
 * models include one of their vehicles' models, and whose campaigns include one running in the
 * corp now (enabled, not switched off by the corp, inside its active window); an empty tag list
 * matches anyone. Texts are rendered with the task talk tracks' renderer, so the variables are
 * the same everywhere.
 */
export async function contentForCustomer(a: ContentAudience): Promise<SidebarContentItem[]> {
  const docs = (await ContentItemModel.find(inCorp(a.corpId))
    .sort({ updatedAt: -1 })
    .limit(500)
    .lean()) as ContentItemLean[];
  const targeted = docs.filter(
    (d) =>
      (d.stages.length === 0 || d.stages.includes(a.stage)) &&
      (d.models.length === 0 || d.models.some((m) => a.models.includes(m))),
  );
  const running = await runningCampaigns(a.corpId, [...new Set(targeted.flatMap((d) => d.campaigns))], a.now);
  const offered = targeted
    .filter((d) => d.campaigns.length === 0 || d.campaigns.some((c) => running.has(c)))
    .slice(0, MAX_ITEMS);
  const media = await currentMediaIds(
    a.corpId,
    offered.flatMap((d) => (d.assetId ? [d.assetId] : [])),
    a.now,
  );
  return offered.map((d) => render(d, a.vars, media));
}

function render(
  d: ContentItemLean,
  vars: ContentAudience['vars'],
  media: ReadonlyMap<string, string>,
): SidebarContentItem {
  const base = { id: String(d._id), kind: d.kind, title: d.title, sendKind: SEND_KIND[d.kind] ?? 'text' };
  const fill = (t: string | null | undefined) => renderTalkTrack(t, vars);
  switch (d.kind) {
    case 'talk_track': {
      const content = fill(d.text) ?? '';
      return { ...base, preview: content, message: { msgtype: 'text', text: { content } } };
    }
    case 'article': {
      const desc = fill(d.description);
      return {
        ...base,
        preview: desc,
        message: {
          msgtype: 'news',
          news: {
            link: d.url ?? '',
            title: fill(d.title) ?? d.title,
            ...(desc ? { desc } : {}),
            ...(d.coverUrl ? { imgUrl: d.coverUrl } : {}),
          },
        },
      };
    }
    case 'miniprogram':
      return {
        ...base,
        message: {
          msgtype: 'miniprogram',
          miniprogram: {
            appid: d.appid ?? '',
            title: fill(d.title) ?? d.title,
            imgUrl: d.coverUrl ?? '',
            page: d.page ?? '',
          },
        },
      };
    default: {
      const mediaid = d.assetId ? media.get(d.assetId) : undefined;
      return mediaid
        ? { ...base, message: { msgtype: 'image', image: { mediaid } } }
        : { ...base, unavailable: 'image_not_uploaded', ...(d.assetId ? { assetId: d.assetId } : {}) };
    }
  }
}

/** Of these campaign rule ids, those running in the corp now. */
async function runningCampaigns(corpId: string, ids: string[], now: Date): Promise<Set<string>> {
  const valid = ids.filter((id) => /^[a-f0-9]{24}$/.test(id));
  if (valid.length === 0) return new Set();
  const rules = await RuleModel.find(
    {
      _id: { $in: valid.map((id) => new Types.ObjectId(id)) },
      scope: { $in: ['all', corpId] },
      enabled: true,
      deletedAt: { $exists: false },
      disabledCorps: { $ne: corpId },
    },
    { body: 1 },
  ).lean();
  return new Set(
    rules
      .filter((r) => inActiveWindow((r.body ?? {}) as Pick<RuleBody, 'activeFrom' | 'activeUntil'>, now))
      .map((r) => String(r._id)),
  );
}

/**
 * The corp's current WeCom media id of each image: `sendChatMessage` sends an image by a
 * temporary media id (3 days, docs/wecom.md §3.12). The sidebar does not call WeCom inside a
 * request (docs/architecture.md §10): a missing one is uploaded by a `content-media-upload` job.
 */
async function currentMediaIds(corpId: string, assetIds: string[], now: Date): Promise<Map<string, string>> {
  const valid = assetIds.filter((id) => /^[a-f0-9]{24}$/.test(id));
  if (valid.length === 0) return new Map();
  const assets = await MediaAssetModel.find(
    { _id: { $in: valid.map((id) => new Types.ObjectId(id)) } },
    { uploads: 1 },
  ).lean();
  const out = new Map<string, string>();
  for (const a of assets) {
    const u = a.uploads.find((x) => x.corpId === corpId);
    if (u && now.getTime() - u.uploadedAt.getTime() < MEDIA_REFRESH_MS) out.set(String(a._id), u.mediaId);
  }
  return out;
}

/** Whether a library item may be named by a send in this corp (its own or the car maker's, not deleted). */
export async function contentItemInCorp(corpId: string, id: string): Promise<boolean> {
  if (!/^[a-f0-9]{24}$/.test(id)) return false;
  return Boolean(await ContentItemModel.exists({ _id: new Types.ObjectId(id), ...inCorp(corpId) }));
}
