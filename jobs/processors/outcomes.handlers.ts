import { Types } from 'mongoose';
import { reattributeCustomer } from '../../src/domain/outcomes/attribution.service.js';
import { detectNoShows } from '../../src/domain/outcomes/no-show.service.js';
import { markDormantOwners, returnArrivedDormantOwners } from '../../src/domain/outcomes/dormancy.service.js';
import { loadOutcomeSettings } from '../../src/domain/outcomes/outcome-settings.js';
import { markUnreachableEpisodes } from '../../src/domain/outcomes/unreachable-episodes.js';
import { evaluateOwnerUnreachableRules } from '../../src/domain/rules/engine/owner-unreachable.js';
import { closeReachableOwnerTasks } from '../../src/domain/tasks/vehicle-tasks.js';
import { outcomesDailyJob } from '../../src/queues/jobs/outcomes.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { withScope } from '../scope.js';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import type { DomainEventHandler } from './domain-events.processor.js';

/**
 * Outcomes as a domain-event consumer: a task completed (possibly recorded late, after the
 * arrival it led to) re-attributes the customer's outcomes that follow it (docs/outcomes.md).
 */
export function outcomesEventHandler(ctx: Pick<WorkerContext, 'clock'>): DomainEventHandler {
  return {
    name: 'outcomes',
    async handle(event, scope) {
      if (event.type !== 'task.completed' || !event.customerId || !Types.ObjectId.isValid(event.customerId)) return;
      await reattributeCustomer(
        { corpId: scope.corpId, now: () => ctx.clock.now() },
        new Types.ObjectId(event.customerId),
        new Date(event.occurredAt),
      );
    },
  };
}

/**
 * The outcomes' maintenance job: the daily no-show detection, dormancy, and the unreachable owners
 * of one dealer corp (episodes, `owner.unreachable` rules, tasks closed by a reachable owner).
 */
export function outcomesJobs(ctx: WorkerContext): JobEntry[] {
  return [
    on(outcomesDailyJob, async ({ corpId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => {
        const r = await detectNoShows({ corpId, now: () => ctx.clock.now() });
        if (r.noShows > 0) log.info({ corpId, noShows: r.noShows }, 'no-shows found; follow-up tasks created');
        const settings = await loadOutcomeSettings(corpId);
        const returned = await returnArrivedDormantOwners(corpId, settings, ctx.clock.now());
        const dormancy = await markDormantOwners({ corpId, now: () => ctx.clock.now(), queues: ctx.queues }, settings);
        if (dormancy.dormant > 0 || returned > 0)
          log.info({ corpId, dormant: dormancy.dormant, returned }, 'owners became dormant or returned');
        const owners = await unreachableOwnerWork(scope, ctx.clock.now());
        if (owners.tasksRan > 0 || owners.closed > 0) log.info({ corpId, ...owners }, 'unreachable owners: tasks');
        return { ...r, dormant: dormancy.dormant, returned, unreachableOwners: owners };
      });
    }),
  ];
}

/**
 * Unreachable owners of one corp (docs/outcomes.md, "Add this owner on WeCom" tasks): episodes
 * first (so a rule sees today's state), tasks of owners who became reachable closed as done, then
 * the `owner.unreachable` rules. Counts only, never VINs, in the result and the log.
 */
async function unreachableOwnerWork(scope: CorpScope, now: Date) {
  const episodes = await markUnreachableEpisodes(scope.corpId, now);
  const closed = await closeReachableOwnerTasks(scope.corpId, episodes.ended, now);
  const rules = await evaluateOwnerUnreachableRules({ ...scope.engine(), tasks: scope.tasks() });
  return {
    unreachable: episodes.unreachable,
    started: episodes.started,
    closed,
    rules: rules.rules,
    tasksRan: rules.ran,
  };
}
