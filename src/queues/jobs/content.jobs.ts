import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** How long one upload request stands for the same corp and image: a later one after that refreshes the media id. */
export const CONTENT_MEDIA_BUCKET_MS = 12 * 60 * 60 * 1000;

/**
 * Uploads a content-library image to one corp's WeCom (temporary media, docs/wecom.md §3.12) so
 * the sidebar can send it with `sendChatMessage`; asked for by the sidebar when an image item has
 * no current media id in that corp (docs/console.md, "Content library"). One job per corp, image
 * and half-day.
 */
export const contentMediaUploadJob = defineJob({
  queue: QueueName.maintenance,
  name: 'content-media-upload',
  schema: z.object({
    corpId: z.string().min(1),
    assetId: z.string().regex(/^[a-f0-9]{24}$/),
    bucket: z.number().int().min(0),
  }),
  jobId: (d) => `content-media-${d.corpId}-${d.assetId}-${d.bucket}`,
  defaults: { attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
});
