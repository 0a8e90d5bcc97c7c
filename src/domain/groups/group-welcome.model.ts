import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

/**
 * A group welcome template (docs/wecom.md §11.6) as marketing edits it in the console. WeCom is
 * never called inside a request: each change bumps `revision` and a `group-welcome-sync` job
 * pushes it; `syncedRevision` says what WeCom has. Marketing copy only, no personal data.
 */
const templateSchema = new Schema(
  {
    corpId: { type: String, required: true },
    label: { type: String, required: true },
    text: { type: String },
    link: { type: new Schema({ title: String, url: String, picurl: String, desc: String }, { _id: false }) },
    imageUrl: { type: String },
    notify: { type: Boolean, default: true },
    wecomTemplateId: { type: String },
    revision: { type: Number, required: true, default: 0 },
    syncedRevision: { type: Number, default: -1 },
    syncStatus: { type: String, enum: ['pending', 'synced', 'failed'], required: true, default: 'pending' },
    syncError: { type: String },
    deleted: { type: Boolean, default: false },
    createdBy: { type: String },
  },
  { collection: 'group_welcome_templates', timestamps: true, versionKey: false },
);
templateSchema.index({ corpId: 1, deleted: 1 });

export type GroupWelcomeTemplateDocument = InferSchemaType<typeof templateSchema>;
export const GroupWelcomeTemplateModel: Model<GroupWelcomeTemplateDocument> =
  (mongoose.models.GroupWelcomeTemplate as Model<GroupWelcomeTemplateDocument> | undefined) ??
  mongoose.model<GroupWelcomeTemplateDocument>('GroupWelcomeTemplate', templateSchema);
