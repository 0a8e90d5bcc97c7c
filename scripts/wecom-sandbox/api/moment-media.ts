import { imageSize, momentImageProblem } from '../../../src/domain/messages/image-size.js';
import { ApiFault } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import { newOpaque } from '../world/ids.js';
import type { CorpWorld } from '../world/model.js';
import { DAY_MS } from './helpers.js';

/** `upload_attachment` limits (docs/wecom.md §12.3): every file over 5 bytes, images and videos ≤ 10 MB. */
export const ATTACHMENT_LIMITS = Object.freeze({ minBytes: 6, maxBytes: 10 * 1024 * 1024, validMs: 3 * DAY_MS });

const isPng = (b: Buffer) => b.length > 8 && b.readUInt32BE(0) === 0x89504e47;
const isJpeg = (b: Buffer) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isMp4 = (b: Buffer) => b.length > 12 && b.toString('latin1', 4, 8) === 'ftyp';

/**
 * `media/upload_attachment` (docs/wecom.md §12.3), with WeCom's rules: `attachment_type` 1
 * (Moments) takes images and videos, 2 (product album) images only, anything else 41072; an image
 * must be JPG or PNG (40004) and, for Moments, within 10,800 × 1,080 px (41081); a video MP4; the
 * file over 5 bytes (40006) and at most 10 MB (41080). The id is valid 3 days.
 */
export const momentMediaRoutes: ApiRoutes = {
  'media/upload_attachment': {
    method: 'POST',
    handler: ({ corp, query, upload, sb }) => {
      const mediaType = query.media_type ?? '';
      const attachmentType = Number(query.attachment_type);
      if (!['image', 'video', 'file'].includes(mediaType)) throw new ApiFault(40005, 'invalid media_type');
      if (
        !(attachmentType === 1 && (mediaType === 'image' || mediaType === 'video')) &&
        !(attachmentType === 2 && mediaType === 'image')
      )
        throw new ApiFault(41072, 'invalid media_type or attachment_type for the attachment');
      const data = upload?.data;
      if (!data || data.length === 0) throw new ApiFault(44001, 'empty media data');
      if (data.length < ATTACHMENT_LIMITS.minBytes) throw new ApiFault(40006, 'invalid file size');
      if (data.length > ATTACHMENT_LIMITS.maxBytes) throw new ApiFault(41080, 'attachment size exceeds the limit');
      if (mediaType === 'image') {
        if (!isPng(data) && !isJpeg(data)) throw new ApiFault(40004, 'invalid media type: images are JPG or PNG');
        if (attachmentType === 1 && momentImageProblem(imageSize(data)))
          throw new ApiFault(41081, 'attachment image resolution exceeds the limit');
      }
      if (mediaType === 'video' && !isMp4(data)) throw new ApiFault(41090, 'invalid video format: MP4 only');
      const media = {
        media_id: newOpaque('att', 60),
        type: mediaType,
        createdAtMs: sb.clock.nowMs(),
        bytes: data.length,
        attachmentType,
      };
      corp.media.push(media);
      return { type: mediaType, media_id: media.media_id, created_at: Math.floor(media.createdAtMs / 1000) };
    },
  },
};

/**
 * A Moments attachment's `media_id` (docs/wecom.md §12.1): missing 41006; not a Moments
 * attachment of this corp with the expected type 40007 (a `media/upload` id is not one);
 * older than 3 days 40145.
 */
export function checkMomentMedia(corp: CorpWorld, sb: SandboxContext, mediaId: unknown, type: 'image' | 'video'): void {
  if (typeof mediaId !== 'string' || mediaId === '') throw new ApiFault(41006, 'media_id missing');
  const media = corp.media.find((m) => m.media_id === mediaId);
  if (!media || media.attachmentType !== 1 || media.type !== type) throw new ApiFault(40007, 'invalid media_id');
  if (sb.clock.nowMs() - media.createdAtMs > ATTACHMENT_LIMITS.validMs) throw new ApiFault(40145, 'media_id expired');
}
