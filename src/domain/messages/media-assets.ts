import { Types } from 'mongoose';
import { MediaAssetModel } from './media-asset.model.js';

/**
 * Storing and describing uploaded images (the admin API's `/media`; docs/architecture.md §10:
 * routes call these, never the model). Sending them is media.service.ts.
 */

export interface MediaAssetSummary {
  id: string;
  filename: string;
  contentType: string;
  scope: string;
  /** How many corps hold a WeCom media id for it. */
  uploads: number;
}

/** Stores an image already checked by the caller (type, size, magic bytes). */
export async function createMediaAsset(input: {
  filename: string;
  contentType: string;
  data: Buffer;
  scope: string;
}): Promise<MediaAssetSummary> {
  const asset = await MediaAssetModel.create(input);
  return {
    id: String(asset._id),
    filename: asset.filename,
    contentType: asset.contentType,
    scope: asset.scope,
    uploads: 0,
  };
}

/** An image's description (never its bytes), or null for an unknown or malformed id. */
export async function describeMediaAsset(id: string): Promise<MediaAssetSummary | null> {
  if (!Types.ObjectId.isValid(id)) return null;
  const asset = await MediaAssetModel.findById(id, { data: 0 }).lean();
  if (!asset) return null;
  return {
    id,
    filename: asset.filename,
    contentType: asset.contentType,
    scope: asset.scope,
    uploads: asset.uploads.length,
  };
}
