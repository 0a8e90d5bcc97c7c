import type { CorpWorld } from '../world/model.js';

type Fail = (message: string, status?: number) => Error;

/** The advisor taps publish on a corp Moments task (docs/wecom.md §12). */
export function publishMoment(
  corp: CorpWorld,
  momentId: string,
  userid: string,
  nowSec: number,
  fail: Fail,
): { published: true } {
  const task = corp.moments.find((m) => m.moment_id === momentId);
  if (!task) throw fail(`unknown moment ${momentId}`, 404);
  if (task.cancelled) throw fail('the Moments task was cancelled');
  const sender = task.senders[userid];
  if (!sender) throw fail(`${userid} has no part in ${momentId}`, 404);
  if (sender.published) throw fail('already published');
  sender.published = true;
  sender.publishTime = nowSec;
  return { published: true };
}
