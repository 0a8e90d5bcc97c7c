import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const MOMENT_TASK_STATUSES = ['pending', 'creating', 'active', 'done', 'ended', 'failed'] as const;
export type MomentTaskStatus = (typeof MOMENT_TASK_STATUSES)[number];

/**
 * A corp Moments task (docs/engagement.md): marketing text for chosen advisors to publish,
 * visible to customers with the given corp tags. Created in WeCom asynchronously (`jobid`, then
 * `momentId`); who published is polled (WeCom sends no callback). Holds no customer data: reach
 * is a count per advisor.
 */
const momentTaskSchema = new Schema(
  {
    corpId: { type: String, required: true },
    name: { type: String, required: true },
    /** May be empty when the post has attachments (WeCom needs one or the other, 41089). */
    text: { type: String, default: '' },
    /**
     * Up to 9 images (media assets, POST /api/v1/media), picked directly or through a content-library
     * image item; uploaded with `upload_attachment` by the worker (docs/engagement.md, "Moments").
     */
    images: {
      type: [
        {
          _id: false,
          assetId: { type: String, required: true },
          contentItemId: { type: String },
        },
      ],
      default: [],
    },
    /** Or one link, its cover an image asset (WeCom needs a cover media id for a link). */
    link: {
      type: new Schema(
        {
          title: { type: String, required: true },
          url: { type: String, required: true },
          coverAssetId: { type: String, required: true },
          coverContentItemId: { type: String },
        },
        { _id: false },
      ),
      required: false,
    },
    /** WeCom corp tag ids; empty = each advisor's customers, public. */
    tagIds: { type: [String], default: [] },
    advisors: { type: [String], required: true },
    /**
     * `pending` (stored) → `creating` (add_moment_task called) → `active` (moment_id known) →
     * `done` (every advisor published) or `ended` (tracking window over); `failed` with `error`.
     */
    status: { type: String, enum: MOMENT_TASK_STATUSES, required: true, default: 'pending' },
    jobid: { type: String },
    momentId: { type: String },
    error: { type: String },
    /** Advisors WeCom refused as senders (outside the visible range). */
    invalidSenders: { type: [String], default: [] },
    publishStatus: {
      type: [
        {
          _id: false,
          userid: { type: String, required: true },
          published: { type: Boolean, required: true },
          /** Customers who can see this advisor's post (`get_moment_send_result`). */
          reach: { type: Number },
          seenPublishedAt: { type: Date },
        },
      ],
      default: [],
    },
    remindedAt: { type: Date },
    reminded: { type: [String], default: [] },
    createdBy: { type: String, required: true },
    /** When it was asked for (the injected clock; the cockpit counts by it). */
    requestedAt: { type: Date, required: true },
    startedAt: { type: Date },
    lastPolledAt: { type: Date },
  },
  { collection: 'moment_tasks', timestamps: true, versionKey: false },
);
momentTaskSchema.index({ corpId: 1, status: 1, requestedAt: -1 });
momentTaskSchema.index({ corpId: 1, requestedAt: -1 });

export type MomentTaskDocument = InferSchemaType<typeof momentTaskSchema>;
export const MomentTaskModel: Model<MomentTaskDocument> =
  (mongoose.models.MomentTask as Model<MomentTaskDocument> | undefined) ??
  mongoose.model<MomentTaskDocument>('MomentTask', momentTaskSchema);
