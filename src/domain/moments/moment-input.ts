import { Types } from 'mongoose';
import { z } from 'zod';
import { ValidationError, type FieldProblem } from '../../infra/errors.js';
import { ContentItemModel } from '../content/content-item.model.js';
import { imageSize, momentImageProblem } from '../messages/image-size.js';
import { assetBytes, MediaAssetModel } from '../messages/media-asset.model.js';
import { assetUsableIn } from '../messages/media-scope.js';
import type { NewMomentTask } from './moment-tasks.js';

/** WeCom's attachment limits for a Moments task (docs/wecom.md §12.1). */
export const MOMENT_LIMITS = Object.freeze({ images: 9, textChars: 2000, linkTitleChars: 64 });

const objectId = (what: string) => z.string().regex(/^[a-f0-9]{24}$/, { error: `${what} (24 hex digits)` });

/** An image: a media asset (POST /api/v1/media) or a content-library image item. */
export const momentImageRef = z.union(
  [
    z.object({ assetId: objectId('assetId: an image id from POST /api/v1/media') }).strict(),
    z.object({ contentItemId: objectId('contentItemId: a content-library image item id') }).strict(),
  ],
  { error: 'each image is { assetId } (POST /api/v1/media) or { contentItemId } (a content-library image)' },
);

/** One link: title ≤ 64 characters, an https URL, and its cover image (WeCom needs one for a link). */
export const momentLinkInput = z
  .object({
    title: z
      .string()
      .trim()
      .min(1)
      .max(MOMENT_LIMITS.linkTitleChars, {
        error: `link.title: at most ${MOMENT_LIMITS.linkTitleChars} characters (WeCom's limit)`,
      }),
    url: z
      .string()
      .trim()
      .max(1024)
      .regex(/^https:\/\/[^\s]+$/, { error: 'link.url must be an https:// URL' }),
    cover: momentImageRef.optional(),
  })
  .strict();

export type MomentImageRef = z.infer<typeof momentImageRef>;
export type MomentLinkInput = z.infer<typeof momentLinkInput>;

/**
 * The shape rules WeCom applies to a Moments post, as 422 problems (docs/wecom.md §12.1): a text
 * or attachments; images or one link, not both; at most 9 images; a link needs its cover image.
 */
export function momentShapeProblems(body: {
  text?: string;
  images?: unknown[];
  link?: { cover?: unknown };
}): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const images = body.images?.length ?? 0;
  if (!body.text && images === 0 && !body.link)
    problems.push({ path: '/text', message: 'a Moments post needs a text, images or a link' });
  if (images > 0 && body.link)
    problems.push({
      path: '/link',
      message: 'a Moments post takes images or one link, not both (WeCom allows one kind of attachment)',
    });
  if (images > MOMENT_LIMITS.images)
    problems.push({ path: '/images', message: `at most ${MOMENT_LIMITS.images} images (WeCom's limit)` });
  if (body.link && !body.link.cover)
    problems.push({
      path: '/link/cover',
      message: 'a link needs a cover image ({ assetId } or { contentItemId }): WeCom requires one',
    });
  return problems;
}

/**
 * Resolves the images and link cover of a new Moments task to media assets this corp may use: a
 * content-library item must be an image item of the car maker's or this corp's library; an asset
 * must be the car maker's or this corp's (another corp's is reported like a missing one); each
 * image must be within WeCom's Moments size bounds. Every problem is one 422 together.
 */
export async function resolveMomentAttachments(
  corpId: string,
  input: { images: MomentImageRef[]; link?: MomentLinkInput },
): Promise<Pick<NewMomentTask, 'images' | 'link'>> {
  const problems: FieldProblem[] = [];
  const resolve = async (ref: MomentImageRef, path: string) => {
    let assetId: string;
    let contentItemId: string | undefined;
    if ('contentItemId' in ref) {
      contentItemId = ref.contentItemId;
      const item = await ContentItemModel.findOne(
        { _id: new Types.ObjectId(ref.contentItemId), scope: { $in: ['all', corpId] }, deletedAt: { $exists: false } },
        { kind: 1, assetId: 1 },
      ).lean();
      if (!item?.assetId || item.kind !== 'image') {
        problems.push({
          path,
          message: `no content-library image ${ref.contentItemId} for ${corpId}; pick an image item of the library`,
        });
        return undefined;
      }
      assetId = item.assetId;
    } else assetId = ref.assetId;
    const asset = await MediaAssetModel.findById(new Types.ObjectId(assetId), { scope: 1, data: 1 }).lean();
    if (!asset || !assetUsableIn(asset.scope, corpId)) {
      problems.push({ path, message: `no image ${assetId} for ${corpId}; upload it with POST /api/v1/media` });
      return undefined;
    }
    const tooLarge = momentImageProblem(imageSize(assetBytes(asset.data)));
    if (tooLarge) {
      problems.push({ path, message: tooLarge });
      return undefined;
    }
    return { assetId, ...(contentItemId ? { contentItemId } : {}) };
  };
  const images: NonNullable<NewMomentTask['images']> = [];
  for (const [i, ref] of input.images.entries()) {
    const got = await resolve(ref, `/images/${i}`);
    if (got) images.push(got);
  }
  let link: NewMomentTask['link'];
  if (input.link?.cover) {
    const cover = await resolve(input.link.cover, '/link/cover');
    if (cover)
      link = {
        title: input.link.title,
        url: input.link.url,
        coverAssetId: cover.assetId,
        ...(cover.contentItemId ? { coverContentItemId: cover.contentItemId } : {}),
      };
  }
  if (problems.length) throw new ValidationError(problems);
  return { images, ...(link ? { link } : {}) };
}
