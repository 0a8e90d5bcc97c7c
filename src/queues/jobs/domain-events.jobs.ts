import { DOMAIN_EVENT_TYPES, domainEventSchema } from '../../domain/events/domain-event.js';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * A domain event on `domain-events` (docs/architecture.md §4), relayed from the outbox; the job id
 * is the outbox record's id (the event id), given by the relay. Each job is named after its event
 * type (`customer.added` ...: the domain's own names, the one exception to kebab-case job names,
 * docs/architecture.md §13.1), so the queue and the failure alerts say what happened.
 */
export const domainEventJob = defineJob({
  queue: QueueName.domainEvents,
  name: 'domain-event',
  nameOf: (event) => event.type,
  legacyNames: DOMAIN_EVENT_TYPES,
  schema: domainEventSchema,
});
