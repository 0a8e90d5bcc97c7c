import type { EngineDeps } from '../../src/domain/rules/engine/engine-deps.js';
import { taskSettingsOf } from '../../src/domain/tasks/task-settings.js';
import type { Logger } from '../../src/infra/logger.js';
import type { WorkerContext } from '../context.js';
import { tuningWith } from '../../src/domain/tuning.js';

/**
 * The rules engine's dependencies for one corp from the worker context, or undefined when the
 * corp is unknown or is the car maker's own corp (no customers).
 */
export function engineDepsFor(ctx: WorkerContext, corpId: string, log: Logger): EngineDeps | undefined {
  const corp = ctx.corps?.get(corpId);
  if (!corp || corp.kind === 'oem' || !corp.enabled) return undefined;
  const tuning = tuningWith(ctx.tuning);
  return {
    corpId,
    timeZone: corp.timezone || ctx.config.defaultTimezone,
    quietHours: taskSettingsOf(corp).quietHours,
    api: ctx.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }),
    clock: ctx.clock,
    queues: ctx.queues,
    logger: log,
    pd: ctx.pd,
    publicBaseUrl: ctx.config.publicBaseUrl,
    batchWindowMs: tuning.messageBatchWindowMs,
    pollDelayMs: tuning.messagePollDelayMs,
  };
}
