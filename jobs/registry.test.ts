/**
 * The processors' job maps (jobs/registry.ts) without the end-to-end bot: which queue takes which
 * job names (old names included), that a name reaches its handler, that a bad payload fails at
 * once, and the outcomes of the scheduled and maintenance handlers that need no database.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { Corp } from '../src/domain/corps/corp.types.js';
import { defaultRetentionSettings } from '../src/domain/customers/retention-settings.js';
import { DOMAIN_EVENT_TYPES } from '../src/domain/events/domain-event.js';
import { SystemClock } from '../src/infra/clock.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import {
  channelSyncJob,
  channelsReconcileJob,
  leadCardFlushJob,
  leadCardJob,
  leadCardsJob,
  leadsTickJob,
  teamCodeRefreshJob,
} from '../src/queues/jobs/acquisition.jobs.js';
import { operatorAlertJob } from '../src/queues/jobs/alerts.jobs.js';
import {
  broadcastCancelJob,
  broadcastTickJob,
  momentCreateJob,
  momentTickJob,
} from '../src/queues/jobs/broadcasts.jobs.js';
import { contentMediaUploadJob } from '../src/queues/jobs/content.jobs.js';
import { groupWelcomeSyncJob, groupsReconcileJob } from '../src/queues/jobs/groups.jobs.js';
import { outcomesDailyJob } from '../src/queues/jobs/outcomes.jobs.js';
import { corpSchedulersJob, customersReconcileJob } from '../src/queues/jobs/customers.jobs.js';
import { callbackReceivedJob } from '../src/queues/jobs/inbound.jobs.js';
import { kpiTickJob } from '../src/queues/jobs/kpis.jobs.js';
import { messageBatchJob, messagePollJob } from '../src/queues/jobs/messages.jobs.js';
import { privacyCancelPendingJob, retentionSweepJob } from '../src/queues/jobs/privacy.jobs.js';
import { rulesBackfillJob } from '../src/queues/jobs/rules.jobs.js';
import { followUpJob, ruleActionJob, scheduleSweepJob } from '../src/queues/jobs/schedules.jobs.js';
import { taskNotifyJob, taskTickJob, transferStartJob } from '../src/queues/jobs/tasks.jobs.js';
import { welcomeJob } from '../src/queues/jobs/welcome.jobs.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { testConfig } from '../src/testing/env.js';
import { offlineWecom } from '../src/testing/worker-deps.js';
import type { WorkerContext } from './context.js';
import type { ProcessorDefinition } from './processor.js';
import { createProcessorFactories, type AlertSender } from './registry.js';
import { CorpNotLoadedError } from './scope.js';

const config = testConfig();
const logger = createLogger({ level: 'silent', name: 'test' });
// Never connected: these handlers stop before Redis or MongoDB.
const redis = createRedis({ url: config.redis.url, role: 'producer', logger, lazyConnect: true });
const corps = new Map<string, Corp>();
const corp = (corpId: string, kind: Corp['kind'], enabled: boolean): Corp => ({
  corpId,
  kind,
  enabled,
  displayName: corpId,
  agentId: 1,
  secret: 's',
  callback: { token: 't', encodingAesKey: 'k' },
  contactSync: undefined,
  timezone: 'Asia/Shanghai',
  retention: defaultRetentionSettings,
});
corps.set('wwdisabled', corp('wwdisabled', 'dealer', false));
corps.set('wwoem', corp('wwoem', 'oem', true));
const ctx: WorkerContext = {
  config,
  logger,
  clock: new SystemClock(),
  redis,
  queues: new Queues(redis, config.redis.queuePrefix),
  corps: { get: (id) => corps.get(id) },
  ...offlineWecom(config, logger),
};

function processors(sendAlert?: AlertSender): Map<string, ProcessorDefinition> {
  return new Map(
    createProcessorFactories({ listCorpIds: () => [...corps.keys()], sendAlert })
      .map((f) => f(ctx))
      .map((d) => [d.queue, d]),
  );
}

const job = (name: string, data: unknown, id = 'test-1') =>
  ({ name, data, id, attemptsMade: 0, opts: {} }) as unknown as Job;
const run = (def: ProcessorDefinition | undefined, name: string, data: unknown) => {
  const handler = def?.handlers[name];
  if (!handler) throw new Error(`no handler for ${name}`);
  return handler(job(name, data), logger);
};

describe('the processors: one job map per queue', () => {
  const defs = processors();

  it('maps every job contract, and its old names, on its own queue', () => {
    const names = (q: QueueName) => Object.keys(defs.get(q)?.handlers ?? {}).sort();
    expect(names(QueueName.wecomInbound)).toEqual([...callbackReceivedJob.names].sort());
    expect(names(QueueName.wecomWelcome)).toEqual([welcomeJob.name]);
    expect(names(QueueName.domainEvents)).toEqual(['domain-event', ...DOMAIN_EVENT_TYPES].sort());
    expect(names(QueueName.scheduled)).toEqual(
      [
        ruleActionJob,
        followUpJob,
        messageBatchJob,
        messagePollJob,
        taskNotifyJob,
        transferStartJob,
        channelSyncJob,
        teamCodeRefreshJob,
        leadCardJob,
        leadCardsJob,
        leadCardFlushJob,
      ]
        .flatMap((c) => c.names)
        .sort(),
    );
    expect(names(QueueName.maintenance)).toEqual(
      [
        scheduleSweepJob,
        taskTickJob,
        kpiTickJob,
        customersReconcileJob,
        corpSchedulersJob,
        retentionSweepJob,
        privacyCancelPendingJob,
        rulesBackfillJob,
        operatorAlertJob,
        outcomesDailyJob,
        groupsReconcileJob,
        groupWelcomeSyncJob,
        contentMediaUploadJob,
        broadcastTickJob,
        broadcastCancelJob,
        momentCreateJob,
        momentTickJob,
        leadsTickJob,
        channelsReconcileJob,
      ]
        .flatMap((c) => c.names)
        .sort(),
    );
    expect(callbackReceivedJob.names).toContain('callback.received');
    expect(ruleActionJob.names).toEqual(['rule-action', 'rule_action']);
  });

  it('routes an old name to the same handler as the new one', () => {
    const scheduled = defs.get(QueueName.scheduled)!.handlers;
    expect(scheduled.rule_action).toBe(scheduled['rule-action']);
    expect(scheduled.follow_up).toBe(scheduled['follow-up']);
    expect(defs.get(QueueName.maintenance)!.handlers['alert.send']).toBe(
      defs.get(QueueName.maintenance)!.handlers['operator-alert'],
    );
  });

  it.each([
    [QueueName.scheduled, ruleActionJob.name, { corpId: 'wwdisabled' }],
    [QueueName.scheduled, messagePollJob.name, { batchId: 'b1', corpId: 'wwdisabled', attempt: 0 }],
    [
      QueueName.scheduled,
      transferStartJob.name,
      { corpId: 'wwdisabled', transferId: 'not-an-object-id', requestedBy: 'u', input: {} },
    ],
    [QueueName.maintenance, rulesBackfillJob.name, {}],
    [QueueName.maintenance, privacyCancelPendingJob.name, { corpId: 'wwdisabled', customerId: 'x' }],
    [QueueName.maintenance, operatorAlertJob.name, { corpId: 'ww1', userIds: [], text: 'x' }],
    [QueueName.domainEvents, 'customer.added', { type: 'customer.added' }],
    [QueueName.wecomInbound, 'callback-received', { corpId: 'ww1', receivedAt: 1 }],
    [QueueName.wecomWelcome, 'welcome', { corpId: 'ww1' }],
  ])('fails a bad %s/%s payload at once (unrecoverable)', async (queue, name, data) => {
    await expect(run(defs.get(queue), name, data)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('scheduled and maintenance handlers: outcomes', () => {
  it('completes a job of a disabled or car-maker corp as skipped, with the reason', async () => {
    const scheduled = processors().get(QueueName.scheduled);
    await expect(run(scheduled, ruleActionJob.name, { scheduleId: 's1', corpId: 'wwdisabled' })).resolves.toEqual({
      skipped: 'disabled_corp',
    });
    await expect(run(scheduled, messageBatchJob.name, { batchId: 'b1', corpId: 'wwoem' })).resolves.toEqual({
      skipped: 'oem_corp',
    });
    await expect(run(scheduled, taskNotifyJob.name, { corpId: 'wwdisabled', advisorUserid: 'u1' })).resolves.toEqual({
      skipped: 'disabled_corp',
    });
    await expect(
      run(scheduled, transferStartJob.name, {
        corpId: 'wwoem',
        transferId: 'a'.repeat(24),
        requestedBy: 'u',
        input: { kind: 'resigned', handoverUserid: 'a', takeoverUserid: 'b', externalUserIds: ['wm1'] },
      }),
    ).resolves.toEqual({ skipped: 'oem_corp' });
    // The same shape through withScope (jobs/scope.ts) in the lead, group and outcome handlers.
    await expect(
      run(scheduled, leadCardJob.name, { corpId: 'wwdisabled', leadId: 'a'.repeat(24), assignment: 1 }),
    ).resolves.toEqual({ skipped: 'disabled_corp' });
    const maintenance = processors().get(QueueName.maintenance);
    await expect(run(maintenance, customersReconcileJob.name, { corpId: 'wwdisabled' })).resolves.toEqual({
      skipped: 'disabled_corp',
    });
    await expect(run(maintenance, outcomesDailyJob.name, { corpId: 'wwoem' })).resolves.toEqual({
      skipped: 'oem_corp',
    });
  });

  it('retries a job of a corp this worker does not know yet', async () => {
    await expect(
      run(processors().get(QueueName.scheduled), messagePollJob.name, { batchId: 'b1', corpId: 'wwunknown' }),
    ).rejects.toBeInstanceOf(CorpNotLoadedError);
  });

  it("skips the car maker's retention sweep (it has no customers)", async () => {
    await expect(
      run(processors().get(QueueName.maintenance), retentionSweepJob.name, { corpId: 'wwoem' }),
    ).resolves.toEqual({ skipped: 'oem_corp' });
  });

  it('sends an operator alert through the sender, or records that none is configured', async () => {
    const sent: Array<[string, string[], string]> = [];
    const withSender = processors(async (corpId, userIds, text) => void sent.push([corpId, userIds, text])).get(
      QueueName.maintenance,
    );
    await expect(
      run(withSender, operatorAlertJob.name, { corpId: 'ww1', userIds: ['ops'], text: 'queue stalled' }),
    ).resolves.toEqual({ delivered: true });
    expect(sent).toEqual([['ww1', ['ops'], 'queue stalled']]);
    await expect(
      run(processors().get(QueueName.maintenance), 'alert.send', { corpId: 'ww1', userIds: ['ops'], text: 'x' }),
    ).resolves.toEqual({ delivered: false });
  });
});
