import { Types } from 'mongoose';
import { reattributeCustomer } from '../../src/domain/outcomes/attribution.service.js';
import type { DomainEventHandler } from './domain-event-handlers.js';

/**
 * Outcomes as a domain-event consumer: a task completed (possibly recorded late, after the
 * arrival it led to) re-attributes the customer's outcomes that follow it (docs/outcomes.md).
 */
export const outcomesHandler: DomainEventHandler = {
  name: 'outcomes',
  async handle(event, ctx) {
    if (event.type !== 'task.completed' || !event.customerId || !Types.ObjectId.isValid(event.customerId)) return;
    await reattributeCustomer({ corpId: event.corpId, now: () => ctx.clock.now() }, new Types.ObjectId(event.customerId), new Date(event.occurredAt));
  },
};
