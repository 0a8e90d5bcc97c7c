import mongoose, { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';

export const TRANSFER_RESULTS = [
  'failed_to_start',
  'waiting',
  'succeeded',
  'refused',
  'taker_full',
  'expired',
] as const;
export type TransferResult = (typeof TRANSFER_RESULTS)[number];

const transferCustomerSchema = new Schema(
  {
    externalUserId: { type: String, required: true },
    customerId: { type: Schema.Types.ObjectId },
    /** WeCom's per-customer errcode when starting (0 = started) and what it means, in words. */
    startErrcode: { type: Number, required: true },
    explanation: { type: String, required: true },
    result: { type: String, enum: TRANSFER_RESULTS, required: true },
    takeoverAt: { type: Date },
    /** When tasks, schedules and the responsible advisor moved (success only). */
    appliedAt: { type: Date },
  },
  { _id: false },
);

/**
 * One manager-started customer transfer (docs/wecom.md §3.15–§3.17): in-service (`transfer_customer`)
 * or resigned (`resigned/transfer_customer`). `transfer_result` is polled from the tasks' minute
 * tick while `nextPollAt` is set (MongoDB holds the wait, not a delayed job). External user ids
 * are WeCom ids, not personal data.
 */
const transferSchema = new Schema(
  {
    corpId: { type: String, required: true },
    kind: { type: String, enum: ['in_service', 'resigned'], required: true },
    handoverUserid: { type: String, required: true },
    takeoverUserid: { type: String, required: true },
    requestedBy: { type: String, required: true },
    status: { type: String, enum: ['polling', 'finished'], required: true },
    customers: { type: [transferCustomerSchema], default: [] },
    /** The handover's customer groups, moved with the customers (docs/wecom.md §11.8). */
    groups: {
      type: [
        new Schema(
          {
            chatId: { type: String, required: true },
            errcode: { type: Number, required: true },
            explanation: { type: String, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    nextPollAt: { type: Date },
    polls: { type: Number, default: 0 },
    finishedAt: { type: Date },
  },
  { collection: 'transfers', timestamps: true, versionKey: false },
);
transferSchema.index({ status: 1, nextPollAt: 1 });
transferSchema.index({ corpId: 1, createdAt: -1 });

export type TransferDocument = InferSchemaType<typeof transferSchema>;
export type TransferLean = TransferDocument & { _id: Types.ObjectId; createdAt: Date };
export const TransferModel: Model<TransferDocument> =
  (mongoose.models.Transfer as Model<TransferDocument> | undefined) ??
  mongoose.model<TransferDocument>('Transfer', transferSchema);
