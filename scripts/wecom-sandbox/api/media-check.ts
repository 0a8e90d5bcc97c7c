import { ApiFault } from '../server/api-fault.js';
import type { SandboxContext } from '../server/context.js';
import type { CorpWorld } from '../world/model.js';
import { DAY_MS } from './helpers.js';

/** Temporary media ids are valid for 3 days (docs/wecom.md §3.9 attachments, media/upload). */
export function checkMediaId(corp: CorpWorld, sb: SandboxContext, mediaId: unknown): void {
  if (typeof mediaId !== 'string') return;
  const media = corp.media.find((m) => m.media_id === mediaId);
  if (!media || sb.clock.nowMs() - media.createdAtMs > 3 * DAY_MS) throw new ApiFault(40007, 'invalid media_id');
}

/** Checks every `media_id` / `pic_media_id` inside welcome or mass-send attachments. */
export function checkAttachments(
  corp: CorpWorld,
  sb: SandboxContext,
  attachments: ReadonlyArray<Record<string, unknown>>,
): void {
  for (const a of attachments) {
    for (const value of Object.values(a)) {
      if (value && typeof value === 'object') {
        const v = value as Record<string, unknown>;
        checkMediaId(corp, sb, v.media_id);
        checkMediaId(corp, sb, v.pic_media_id);
      }
    }
  }
}
