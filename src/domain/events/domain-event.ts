import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The domain events of docs/architecture.md §4. Payloads carry ids, never personal data. New events are
 * added here and to docs/architecture.md §4's list. They are recorded with `withOutbox` (outbox.ts), never
 * added to the queue directly (docs/reliability.md, "Domain events: the outbox").
 */
export const DOMAIN_EVENT_TYPES = [
  'customer.added',
  'customer.tag_added',
  'customer.tag_removed',
  'customer.became_owner',
  'customer.lost',
  'relationship.transferred',
  'vehicle.linked',
  'customer.anchor_changed',
  'task.completed',
  'lead.created',
  'lead.stage_changed',
  'service.overdue',
] as const;

export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

const idString = z.string().min(1).max(128);

export const domainEventSchema = z.object({
  type: z.enum(DOMAIN_EVENT_TYPES),
  corpId: idString,
  /** Where it came from (an inbound dedup key, `import:<file hash>:<line>`, `reconcile:<run>` ...): with `type` it makes the job id. */
  sourceId: idString.max(256),
  occurredAt: z.iso.datetime(),
  customerId: idString.optional(),
  externalUserId: idString.optional(),
  userid: idString.optional(),
  relationshipId: idString.optional(),
  vehicleId: idString.optional(),
  taskId: idString.optional(),
  /** Small typed facts: tag id, channel state, anchor field, takeover userid ... (no personal data). */
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});

export type DomainEvent = z.infer<typeof domainEventSchema>;
export type DomainEventInput = z.input<typeof domainEventSchema>;

/**
 * Deterministic BullMQ job id (no `:`, never all digits): a replayed callback produces the same
 * id, so it cannot emit the same event twice while the first job is retained.
 */
export function domainEventJobId(
  event: Pick<DomainEvent, 'type' | 'corpId' | 'sourceId'> & { discriminator?: string },
): string {
  const digest = createHash('sha256')
    .update(`${event.corpId}\u0000${event.sourceId}\u0000${event.discriminator ?? ''}`)
    .digest('base64url')
    .slice(0, 32);
  return `${event.type.replace('.', '-')}-${digest}`;
}
