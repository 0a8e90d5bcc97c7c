import { Types } from 'mongoose';
import { ExecutionModel } from './engine/execution.model.js';
import type { ExecutionKey } from './engine/execution.service.js';

/**
 * The welcome lane's two MongoDB commands per welcome (docs/architecture.md §5): the "welcomed
 * before" read and the execution record. They go through the driver (`Model.collection`), not
 * mongoose's query casting: every value is already of its stored type, `rule_executions` has no
 * middleware, and the record sets the schema's timestamps itself. At a campaign's peak the lane
 * runs them for every add, and mongoose's casting was a measurable share of the welcome worker's
 * CPU (docs/benchmarks.md, bench:welcome).
 */

/** The welcome action `done` recorded by any welcome rule for this relationship's add, if any. */
export async function findWelcomeDone(
  corpId: string,
  subject: string,
  occurrenceId: string,
  maxTimeMS: number,
): Promise<{ ruleId: Types.ObjectId } | null> {
  return ExecutionModel.collection.findOne<{ ruleId: Types.ObjectId }>(
    {
      subject,
      occurrenceId,
      corpId,
      trigger: 'customer.added',
      actions: { $elemMatch: { type: 'welcome', status: 'done' } },
    },
    { projection: { _id: 0, ruleId: 1 }, maxTimeMS },
  );
}

/**
 * The welcome's execution record, written in one upsert after `send_welcome_msg` answered: the
 * first welcome action with its outcome; further welcome actions of the rule are skipped (one
 * welcome per add). The same document as `recordWelcome` (src/domain/rules/engine/execution.service.ts)
 * writes through mongoose, timestamps included.
 */
export async function recordWelcomeOutcome(input: {
  key: ExecutionKey;
  corpId: string;
  ruleVersion: number;
  actionCount: number;
  status: 'done' | 'skipped';
  at: Date;
  reason?: string;
  refs?: Record<string, unknown>;
}): Promise<void> {
  const actions = Array.from({ length: input.actionCount }, (_, index) =>
    index === 0
      ? {
          index,
          type: 'welcome',
          status: input.status,
          attempts: 1,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.refs ? { refs: input.refs } : {}),
          at: input.at,
        }
      : { index, type: 'welcome', status: 'skipped', attempts: 0, reason: 'one welcome per add' },
  );
  const now = new Date();
  await ExecutionModel.collection.updateOne(
    { ruleId: new Types.ObjectId(input.key.ruleId), subject: input.key.subject, occurrenceId: input.key.occurrenceId },
    {
      $set: { status: input.status, actions, ...(input.reason ? { reason: input.reason } : {}), updatedAt: now },
      $setOnInsert: {
        corpId: input.corpId,
        ruleVersion: input.ruleVersion,
        trigger: 'customer.added',
        createdAt: now,
      },
    },
    { upsert: true },
  );
}
