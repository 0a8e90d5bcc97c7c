import { Types } from 'mongoose';
import { addDays } from '../kpis/kpi-days.js';
import { TaskModel } from '../tasks/task.model.js';
import { NoShowModel } from './no-show.model.js';

/**
 * Plants `booked` tasks of `advisor` done as `appointment_booked` on the Wednesday of the week
 * starting `monday` (10:00 Asia/Shanghai), the first `missed` of them no-shows found when their
 * 14-day window closed (docs/outcomes.md, "No-shows"). Returns the no-shows' ids.
 */
export async function plantBookings(
  corpId: string,
  advisor: string,
  monday: string,
  booked: number,
  missed: number,
): Promise<string[]> {
  const at = new Date(`${addDays(monday, 2)}T02:00:00Z`);
  const tasks = await TaskModel.insertMany(
    Array.from({ length: booked }, () => ({
      corpId,
      customerId: new Types.ObjectId(),
      advisorUserid: advisor,
      title: '保养邀约',
      dueAt: at,
      slaMs: 86_400_000,
      remindAt: at,
      ladder: { escalateAfterMs: 86_400_000, flagAfterMs: 172_800_000 },
      status: 'done',
      outcome: 'appointment_booked',
      completedAt: at,
    })),
  );
  const windowEnd = new Date(at.getTime() + 14 * 86_400_000);
  const docs = await NoShowModel.insertMany(
    tasks.slice(0, missed).map((t) => ({
      corpId,
      taskId: t._id,
      customerId: t.customerId,
      advisorUserid: advisor,
      bookedAt: at,
      windowEnd,
      followUpTaskId: new Types.ObjectId(),
      detectedAt: new Date(windowEnd.getTime() + 3_600_000),
    })),
  );
  return docs.map((d) => String(d._id)).sort();
}
