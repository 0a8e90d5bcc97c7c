import { applyRetentionPolicy } from '../../src/domain/customers/retention-policy.js';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import type { DomainEventHandler } from './domain-event-handlers.js';

/**
 * Retained customers as a domain-event consumer: a linked vehicle, a delivery-channel
 * add or an owner tag makes the customer an owner and tags them in WeCom.
 */
export const retentionHandler: DomainEventHandler = {
  name: 'retention',
  async handle(event, ctx, log) {
    const corp = ctx.corps?.get(event.corpId);
    if (!corp || corp.kind === 'oem') return;
    const reason = await applyRetentionPolicy(
      { corpId: corp.corpId, api: ctx.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }), pd: ctx.pd, clock: ctx.clock, queues: ctx.queues, logger: log },
      corp.retention ?? defaultRetentionSettings,
      event,
    );
    if (reason) log.info({ corpId: corp.corpId, customerId: event.customerId, reason }, 'customer is a retained customer (owner)');
  },
};
