import { mediaIdFor } from '../../src/domain/messages/media.service.js';
import { contentMediaUploadJob } from '../../src/queues/jobs/content.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { withScope } from '../scope.js';

/** The content library's jobs (docs/console.md, "Content library"): images uploaded to a corp's WeCom ahead of a send. */
export function contentJobs(ctx: WorkerContext): JobEntry[] {
  return [
    on(contentMediaUploadJob, async ({ corpId, assetId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => {
        // mediaIdFor uploads only when the corp's media id is missing or older than its refresh age.
        await mediaIdFor(scope.api, assetId, ctx.clock.now());
        return { uploaded: assetId };
      });
    }),
  ];
}
