import { Schema, model, type InferSchemaType } from 'mongoose';
import { DOMAIN_EVENT_TYPES } from './domain-event.js';

/** How long relayed records are kept (for tracing a late consumer); pending ones are never expired. */
export const OUTBOX_RELAYED_TTL_S = 7 * 24 * 60 * 60;

/**
 * The transactional outbox (docs/reliability.md, "Domain events: the outbox"): one document per
 * domain event, written in the same MongoDB transaction as the state change that causes it, keyed
 * by the event's deterministic id (which is also its BullMQ job id). The relay moves `pending`
 * records to the `domain-events` queue and marks them `relayed`. A job that runs its events itself
 * (the inbound lane) writes no record here: it leases the events' `domain_events` ledger records
 * instead (domain-event-record.model.ts). `inline` records (until `leaseUntil`) are those such jobs
 * wrote before; the relay still moves them when their lease expired. Ids only, no personal data.
 */
const outboxEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: DOMAIN_EVENT_TYPES, required: true },
    corpId: { type: String, required: true },
    /** The parsed domain event, exactly the job data the relay enqueues. */
    event: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: ['pending', 'inline', 'relayed'], required: true, default: 'pending' },
    createdAt: { type: Date, required: true },
    /** Of an `inline` record: when the relay takes it over (its job died before finishing it). */
    leaseUntil: { type: Date },
    relayedAt: { type: Date },
  },
  { collection: 'outbox_events', versionKey: false },
);
outboxEventSchema.index({ status: 1, createdAt: 1 });
outboxEventSchema.index({ relayedAt: 1 }, { expireAfterSeconds: OUTBOX_RELAYED_TTL_S });

export type OutboxEventRecord = InferSchemaType<typeof outboxEventSchema>;
export const OutboxEventModel = model('OutboxEvent', outboxEventSchema);
