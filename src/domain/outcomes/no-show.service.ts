import { dayjs } from '../../infra/clock.js';
import { withOutbox } from '../events/outbox.js';
import { TaskModel } from '../tasks/task.model.js';
import { parseStoredTaskSettings } from '../tasks/task-settings.js';
import { CorpModel } from '../corps/corp.model.js';
import { durationMs } from '../rules/durations.js';
import { NoShowModel } from './no-show.model.js';
import { OutcomeModel } from './outcome.model.js';
import { loadOutcomeSettings } from './outcome-settings.js';

/** How far back a detection run looks for bookings whose window has closed (a missed day catches up). */
const LOOKBACK_DAYS = 30;
export const NO_SHOW_TITLE = '预约未到店回访';

/**
 * Reconciles self-reported bookings with DMS facts (docs/outcomes.md, "No-shows"): every task
 * done with outcome `appointment_booked` whose no-show window has closed without an active repair
 * order (the arrival) of that customer becomes a no-show, and the advisor gets a follow-up task
 * for it. Idempotent: the no-show is unique per booking task, and its task is created in the same
 * transaction. Returns how many were found now.
 */
export async function detectNoShows(deps: {
  corpId: string;
  now: () => Date;
}): Promise<{ checked: number; noShows: number }> {
  const settings = await loadOutcomeSettings(deps.corpId);
  const now = deps.now();
  const closedBefore = dayjs(now).subtract(settings.noShowDays, 'day').toDate();
  const since = dayjs(closedBefore).subtract(LOOKBACK_DAYS, 'day').toDate();
  const booked = await TaskModel.find(
    {
      corpId: deps.corpId,
      status: 'done',
      outcome: 'appointment_booked',
      completedAt: { $gte: since, $lte: closedBefore },
    },
    { customerId: 1, advisorUserid: 1, completedAt: 1, category: 1, ruleId: 1, ruleVersion: 1 },
  ).lean();
  if (booked.length === 0) return { checked: 0, noShows: 0 };
  const known = new Set(
    (await NoShowModel.find({ taskId: { $in: booked.map((t) => t._id) } }, { taskId: 1 }).lean()).map((n) =>
      String(n.taskId),
    ),
  );
  const corp = await CorpModel.findOne({ corpId: deps.corpId }, { tasks: 1 }).lean();
  const taskSettings = parseStoredTaskSettings(corp?.tasks);
  let noShows = 0;
  for (const t of booked) {
    const bookedAt = t.completedAt;
    if (known.has(String(t._id)) || !bookedAt) continue;
    const windowEnd = dayjs(bookedAt).add(settings.noShowDays, 'day').toDate();
    const arrived = await OutcomeModel.exists({
      corpId: deps.corpId,
      customerId: t.customerId,
      type: 'repair_order',
      status: 'active',
      occurredAt: { $gte: dayjs(bookedAt).startOf('day').toDate(), $lte: windowEnd },
    });
    if (arrived) continue;
    const created = await withOutbox({}, async () => {
      const [noShow] = await NoShowModel.create([
        {
          corpId: deps.corpId,
          taskId: t._id,
          customerId: t.customerId,
          advisorUserid: t.advisorUserid,
          bookedAt,
          windowEnd,
          detectedAt: now,
        },
      ]);
      const [task] = await TaskModel.create([
        {
          corpId: deps.corpId,
          customerId: t.customerId,
          advisorUserid: t.advisorUserid,
          ruleId: t.ruleId,
          ruleVersion: t.ruleVersion,
          reason: 'no_show',
          category: t.category ?? ('maintenance' as const),
          title: NO_SHOW_TITLE,
          talkTrack: '{客户}您好，之前为您预约的到店服务没有等到您，想确认一下是否需要重新安排时间？',
          dueAt: now,
          slaMs: durationMs(taskSettings.sla),
          remindAt: now,
          ladder: {
            escalateAfterMs: durationMs(taskSettings.escalateAfter),
            flagAfterMs: durationMs(taskSettings.flagAfter),
            to: 'direct_leader' as const,
            reassign: taskSettings.reassignOnFlag,
          },
          history: [
            {
              at: now,
              actor: 'system',
              action: 'created',
              detail: { reason: 'no_show', bookingTaskId: String(t._id) },
            },
          ],
        },
      ]);
      await NoShowModel.updateOne({ _id: noShow?._id }, { $set: { followUpTaskId: task?._id } });
      return true;
    }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 11000) return false; // another run found it first
      throw err;
    });
    if (created) noShows++;
  }
  return { checked: booked.length, noShows };
}
