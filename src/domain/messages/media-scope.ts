import { Types } from 'mongoose';
import { ValidationError } from '../../infra/errors.js';
import { MediaAssetModel } from './media-asset.model.js';

/** Every image asset id a rule body names (`assetId`, `picAssetId` at any depth). */
function assetIdsOf(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const item of value) assetIdsOf(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if ((key === 'assetId' || key === 'picAssetId') && typeof child === 'string') out.add(child);
      else assetIdsOf(child, out);
    }
  }
  return out;
}

/** Whether an asset uploaded for `assetScope` may be used in `scope` (a corp id or `all`). */
export function assetUsableIn(assetScope: string, scope: string): boolean {
  return assetScope === 'all' || assetScope === scope;
}

/**
 * Refuses a rule that names an image of another corp (docs/security.md): a corp's rule may use
 * its own images and the car maker's `all` images; an all-corp rule only `all` images. An image of
 * another corp is reported like a missing one, so its existence does not leak. 422 otherwise.
 */
export async function assertAssetsInScope(body: { scope: string }): Promise<void> {
  const ids = [...assetIdsOf(body)];
  if (ids.length === 0) return;
  const found = await MediaAssetModel.find(
    { _id: { $in: ids.filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id)) } },
    { scope: 1 },
  ).lean();
  const usable = new Set(found.filter((a) => assetUsableIn(a.scope, body.scope)).map((a) => String(a._id)));
  const problems = ids
    .filter((id) => !usable.has(id))
    .map((id) => ({
      path: 'actions',
      message: `no image ${id} for scope ${body.scope}; upload it with POST /api/v1/media for this scope`,
    }));
  if (problems.length > 0) throw new ValidationError(problems);
}
