import { Types } from 'mongoose';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { Attachment as WecomAttachment } from '../../wecom/endpoints/mass-send.js';
import type { Attachment } from '../rules/rule.schema.js';
import { assetBytes, MediaAssetModel } from './media-asset.model.js';
import { assetUsableIn } from './media-scope.js';

/** Re-upload when a media id is older than this: WeCom keeps temporary media 3 days. */
export const MEDIA_REFRESH_MS = 60 * 60 * 60 * 1000; // 2.5 days

/**
 * A WeCom `media_id` for the asset in this corp: uploaded when first needed, re-uploaded when
 * the cached one is near its 3-day expiry.
 */
export async function mediaIdFor(api: CorpApi, assetId: string, now: Date): Promise<string> {
  const asset = await MediaAssetModel.findById(new Types.ObjectId(assetId)).lean();
  if (!asset) throw new Error(`media asset ${assetId} does not exist; upload it again and update the rule`);
  // A rule copied or edited around the API check must still not send another corp's image.
  if (!assetUsableIn(asset.scope, api.corpId))
    throw new Error(
      `media asset ${assetId} belongs to another corp; upload the image for ${api.corpId} and update the rule`,
    );
  const cached = asset.uploads.find((u) => u.corpId === api.corpId);
  if (cached && now.getTime() - cached.uploadedAt.getTime() < MEDIA_REFRESH_MS) return cached.mediaId;
  const uploaded = await api.uploadMedia('image', assetBytes(asset.data), asset.filename, asset.contentType);
  await MediaAssetModel.updateOne({ _id: asset._id }, { $pull: { uploads: { corpId: api.corpId } } });
  await MediaAssetModel.updateOne(
    { _id: asset._id },
    { $push: { uploads: { corpId: api.corpId, mediaId: uploaded.media_id, uploadedAt: now } } },
  );
  return uploaded.media_id;
}

/** Rule attachments → WeCom's welcome / mass-send attachment shapes (docs/wecom.md §3.9). */
export async function toWecomAttachments(
  api: CorpApi,
  attachments: readonly Attachment[],
  now: Date,
): Promise<WecomAttachment[]> {
  const out: WecomAttachment[] = [];
  for (const a of attachments) {
    if (a.type === 'link')
      out.push({
        msgtype: 'link',
        link: {
          title: a.title,
          url: a.url,
          ...(a.desc ? { desc: a.desc } : {}),
          ...(a.picUrl ? { picurl: a.picUrl } : {}),
        },
      });
    else if (a.type === 'image')
      out.push({ msgtype: 'image', image: { media_id: await mediaIdFor(api, a.assetId, now) } });
    else
      out.push({
        msgtype: 'miniprogram',
        miniprogram: {
          title: a.title,
          appid: a.appid,
          page: a.page,
          pic_media_id: await mediaIdFor(api, a.picAssetId, now),
        },
      });
  }
  return out;
}
