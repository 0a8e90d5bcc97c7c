import { leadersOf } from '../customers/advisor-directory.service.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { leaderCard, leaderCardId, loadTaskView } from './task-card.js';
import type { TaskDeps } from './task-deps.js';
import { budgetLeft, countSent, isUndeliverable, sendAdvisorCard, sendCardOnce } from './task-notify.js';
import { checkpointAfter } from './task.service.js';
import { TaskModel, type TaskLean } from './task.model.js';

/**
 * The SLA ladder (docs/tasks.md). Driven by the minute tick over `nextCheckpointAt` (indexed with
 * status) rather than by one delayed job or schedule per step: the state lives on the task in
 * MongoDB, so nothing sits in Redis for days, a completed task simply has no checkpoint (the
 * ladder stops by itself, nothing to cancel), and a crash repeats at most the last step's message
 * (cards use deterministic task_ids, so WeCom refuses the repeat). Each step is committed with a
 * conditional update on the level, so two runs cannot both raise it.
 *
 * 1: remind the advisor at due + SLA; 2: a card to the leader naming advisor, customer and task;
 * 3: flag, and if configured offer the leader a reassignment (card dropdown, or the API).
 */
export async function runLadder(deps: TaskDeps, limit = 500): Promise<{ steps: number; deferred: number }> {
  const now = deps.clock.now();
  const due = (await TaskModel.find({ corpId: deps.corpId, status: 'open', nextCheckpointAt: { $lte: now } })
    .sort({ nextCheckpointAt: 1 })
    .limit(limit)
    .lean()) as TaskLean[];
  let steps = 0;
  let deferred = 0;
  for (const task of due) {
    // One task's failure (WeCom down, a bad card) must not hold up the others: it stays due and
    // the next tick tries again.
    const stepped = await ladderStep(deps, task).catch((err: unknown) => {
      deps.logger.warn(
        { corpId: deps.corpId, taskId: String(task._id), err: (err as Error).message },
        'task escalation step failed; retried next tick',
      );
      return false;
    });
    if (stepped) steps++;
    else deferred++;
  }
  return { steps, deferred };
}

async function leadersFor(deps: TaskDeps, task: TaskLean): Promise<string[]> {
  if (task.ladder?.to === 'manager') {
    const advisor = await AdvisorModel.findOne(
      { corpId: deps.corpId, userid: task.advisorUserid },
      { departments: 1 },
    ).lean();
    const managers = await AdvisorModel.find(
      {
        corpId: deps.corpId,
        leadsDepartments: { $in: advisor?.departments ?? [] },
        status: 'active',
        userid: { $ne: task.advisorUserid },
      },
      { userid: 1 },
    ).lean();
    if (managers.length > 0) return managers.map((m) => m.userid);
  }
  return leadersOf(deps, task.advisorUserid);
}

/** Colleagues a flagged task can go to: active members of the advisor's departments. */
export async function reassignCandidates(
  deps: Pick<TaskDeps, 'corpId'>,
  advisorUserid: string,
  exclude: string[],
): Promise<Array<{ userid: string; name: string }>> {
  const advisor = await AdvisorModel.findOne({ corpId: deps.corpId, userid: advisorUserid }, { departments: 1 }).lean();
  const rows = await AdvisorModel.find(
    {
      corpId: deps.corpId,
      departments: { $in: advisor?.departments ?? [] },
      status: 'active',
      userid: { $nin: [advisorUserid, ...exclude] },
    },
    { userid: 1, name: 1 },
  )
    .sort({ userid: 1 })
    .limit(10)
    .lean();
  return rows.map((r) => ({ userid: r.userid, name: r.name ?? r.userid }));
}

/** Level 1 reminds the advisor; 2 and 3 send the leaders' card. Returns who was messaged. */
async function notifyStep(deps: TaskDeps, task: TaskLean, level: number): Promise<string[]> {
  if (level === 1) {
    await sendAdvisorCard(deps, task, '已超时，请尽快跟进');
    return [task.advisorUserid];
  }
  const leaders = await leadersFor(deps, task);
  if (leaders.length === 0) return [];
  const view = await loadTaskView(deps, task);
  const candidates =
    level === 3 && task.ladder?.reassign ? await reassignCandidates(deps, task.advisorUserid, leaders) : [];
  await sendCardOnce(
    deps,
    leaders.join('|'),
    leaderCard(task, view, level, leaderCardId(String(task._id), level), deps.publicBaseUrl, candidates),
  );
  for (const leader of leaders) await countSent(deps, leader);
  return leaders;
}

async function ladderStep(deps: TaskDeps, task: TaskLean): Promise<boolean> {
  const level = (task.escalationLevel ?? 0) + 1;
  if (level > 3) return false;
  const now = deps.clock.now();
  if (level === 1 && (await budgetLeft(deps, task.advisorUserid)) === 0) return false;
  // Someone who left (or whom WeCom no longer knows) cannot be messaged: the step is recorded as
  // undeliverable and the ladder goes on, so the leader still hears of the task (and a flag follows).
  let notified: string[] = [];
  let undeliverable = false;
  try {
    notified = await notifyStep(deps, task, level);
  } catch (err) {
    if (!isUndeliverable(err)) throw err;
    undeliverable = true;
  }
  const next = checkpointAfter(task, level, deps.settings, deps.timeZone);
  const res = await TaskModel.updateOne(
    { _id: task._id, status: 'open', escalationLevel: level - 1 },
    {
      $set: {
        escalationLevel: level,
        ...(level === 3 ? { flagged: true } : {}),
        ...(next ? { nextCheckpointAt: next } : {}),
      },
      ...(next ? {} : { $unset: { nextCheckpointAt: 1 } }),
      $push: {
        history: {
          at: now,
          actor: 'system',
          action: level === 1 ? 'reminded' : level === 2 ? 'escalated' : 'flagged',
          detail: { level, notified, ...(undeliverable ? { undeliverable: true } : {}) },
        },
      },
    },
  );
  if (res.modifiedCount > 0)
    deps.logger.info({ corpId: deps.corpId, taskId: String(task._id), level }, 'task escalation step');
  return res.modifiedCount > 0;
}
