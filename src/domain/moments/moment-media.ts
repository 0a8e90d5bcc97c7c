import { Types } from 'mongoose';
import type { CorpApi } from '../../wecom/corp-api.js';
import { assetBytes, MediaAssetModel } from '../messages/media-asset.model.js';
import { assetUsableIn } from '../messages/media-scope.js';
import { MEDIA_REFRESH_MS } from '../messages/media.service.js';

/** An image the Moments task names that cannot be used (gone, or another corp's): permanent, in words. */
export class MomentMediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MomentMediaError';
  }
}

/**
 * A Moments attachment `media_id` for the asset in this corp (`media/upload_attachment`,
 * attachment_type 1; docs/wecom.md §12.3): uploaded when first needed and kept per corp with its
 * upload time, like the content library's `media/upload` ids (a different id: WeCom does not take
 * one for the other), re-uploaded once it is older than `MEDIA_REFRESH_MS` (WeCom keeps it 3 days)
 * or when `fresh` asks for it (WeCom answered that the cached one is invalid or expired).
 */
export async function attachmentMediaIdFor(api: CorpApi, assetId: string, now: Date, fresh = false): Promise<string> {
  const asset = Types.ObjectId.isValid(assetId)
    ? await MediaAssetModel.findById(new Types.ObjectId(assetId)).lean()
    : null;
  if (!asset) throw new MomentMediaError(`图片 ${assetId} 已不存在；请重新上传并新建任务`);
  if (!assetUsableIn(asset.scope, api.corpId)) throw new MomentMediaError(`图片 ${assetId} 属于其他企业，不能在此使用`);
  const cached = (asset.attachmentUploads ?? []).find((u) => u.corpId === api.corpId);
  if (!fresh && cached && now.getTime() - cached.uploadedAt.getTime() < MEDIA_REFRESH_MS) return cached.mediaId;
  const uploaded = await api.uploadAttachment('image', assetBytes(asset.data), asset.filename, asset.contentType);
  await MediaAssetModel.updateOne({ _id: asset._id }, { $pull: { attachmentUploads: { corpId: api.corpId } } });
  await MediaAssetModel.updateOne(
    { _id: asset._id },
    { $push: { attachmentUploads: { corpId: api.corpId, mediaId: uploaded.media_id, uploadedAt: now } } },
  );
  return uploaded.media_id;
}
