import { Schema, model, type InferSchemaType } from 'mongoose';
import { DOMAIN_EVENT_TYPES } from './domain-event.js';

/**
 * Every domain event the worker consumed (docs/architecture.md §4): the trace of what happened to whom,
 * by id only. Unique on the job id, so a redelivered event is recorded once.
 *
 * An event committed by a job that runs its events itself (the inbound lane) is written here in the
 * change's transaction, already claimed by that job (`processing`, attempts 1) until `leaseUntil`:
 * this record is its durable hand-off (docs/reliability.md, "Domain events: the outbox"). Its job
 * finishes it (which clears the lease) or hands it to the `domain-events` queue (`queued`, lease
 * cleared); the relay loop queues one whose lease expired (the job died). The record keeps every
 * field of the event, so the event can be rebuilt from it (`eventOfRecord`).
 */
const domainEventRecordSchema = new Schema(
  {
    eventId: { type: String, required: true },
    type: { type: String, enum: DOMAIN_EVENT_TYPES, required: true },
    corpId: { type: String, required: true },
    sourceId: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    customerId: { type: String },
    externalUserId: { type: String },
    userid: { type: String },
    relationshipId: { type: String },
    vehicleId: { type: String },
    taskId: { type: String },
    data: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, enum: ['processing', 'queued', 'processed', 'failed'], default: 'processing' },
    attempts: { type: Number, default: 0 },
    error: { type: String },
    processedAt: { type: Date },
    /** Of an event its job runs itself: when the relay loop takes it over (the job died first). */
    leaseUntil: { type: Date },
  },
  { timestamps: true, collection: 'domain_events' },
);
domainEventRecordSchema.index({ eventId: 1 }, { unique: true });
domainEventRecordSchema.index({ corpId: 1, customerId: 1, occurredAt: -1 });
domainEventRecordSchema.index({ corpId: 1, type: 1, occurredAt: -1 });
// The relay loop's scan for expired leases: only records still leased are in it.
domainEventRecordSchema.index({ leaseUntil: 1 }, { sparse: true });

export type DomainEventRecord = InferSchemaType<typeof domainEventRecordSchema>;
export const DomainEventRecordModel = model('DomainEventRecord', domainEventRecordSchema);
