import { Schema, model, type InferSchemaType } from 'mongoose';
import { DOMAIN_EVENT_TYPES } from './domain-event.js';

/**
 * Every domain event the worker consumed (docs/architecture.md §4): the trace of what happened to whom,
 * by id only. Unique on the job id, so a redelivered event is recorded once.
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
    vehicleId: { type: String },
    taskId: { type: String },
    data: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, enum: ['processing', 'processed', 'failed'], default: 'processing' },
    attempts: { type: Number, default: 0 },
    error: { type: String },
    processedAt: { type: Date },
  },
  { timestamps: true, collection: 'domain_events' },
);
domainEventRecordSchema.index({ eventId: 1 }, { unique: true });
domainEventRecordSchema.index({ corpId: 1, customerId: 1, occurredAt: -1 });
domainEventRecordSchema.index({ corpId: 1, type: 1, occurredAt: -1 });

export type DomainEventRecord = InferSchemaType<typeof domainEventRecordSchema>;
export const DomainEventRecordModel = model('DomainEventRecord', domainEventRecordSchema);
