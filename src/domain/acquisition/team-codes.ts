import { tuningWith, type Tuning } from '../tuning.js';
import type { Queues } from '../../queues/queue-factory.js';
import { teamCodeRefreshJob } from '../../queues/jobs/acquisition.jobs.js';
import { ChannelModel } from './channel.model.js';

/** The debounce window (real time: it is about WeCom's rate limits, not business time); tests shorten it. */

/**
 * Asks for the member lists of the corp's team codes (those carrying `userid`, or all) to be
 * re-computed (docs/acquisition.md "Team codes"). Debounced: one job per code per 30-second
 * window, run at the window's end, so a burst of changes costs one `update_contact_way` per code
 * and the corp stays far inside WeCom's per-minute limits (docs/wecom.md §5). A second request for
 * the same advisor in the same window (a burst of leads) costs no MongoDB read in this process.
 * Returns the codes asked for (0 for such a repeat).
 */
export async function requestTeamRefresh(
  deps: { queues: Queues; tuning?: Partial<Tuning> },
  corpId: string,
  userid?: string,
): Promise<number> {
  const windowMs = tuningWith(deps.tuning).teamRefreshWindowMs;
  const now = Date.now();
  const window = Math.floor(now / windowMs);
  // Asked already for this advisor in this window (a burst of leads to them): the jobs queued then
  // run at the window's end and read the state as it is then, so the lookup would change nothing.
  const memo = userid ? `${corpId}|${userid}|${windowMs}` : undefined;
  if (memo && askedInWindow.get(memo) === window) return 0;
  const channels = await ChannelModel.find(
    { corpId, kind: 'team', deletedAt: { $exists: false }, ...(userid ? { advisors: userid } : {}) },
    { _id: 1 },
  ).lean();
  const delay = (window + 1) * windowMs - now;
  for (const c of channels)
    await teamCodeRefreshJob.enqueue(deps.queues, { corpId, channelId: String(c._id), window }, { delay });
  if (memo) {
    if (askedInWindow.size > 10_000) askedInWindow.clear();
    askedInWindow.set(memo, window);
  }
  return channels.length;
}

/** Per process: the window in which each advisor's team codes were last asked for (the burst shortcut above). */
const askedInWindow = new Map<string, number>();
