import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';
import { CONTENT_KINDS } from './content.schema.js';

/**
 * One item of the content library (docs/console.md, "Content library"): a talk track, an article
 * link, an image (a media asset) or a mini-program card that advisors send into a chat from the
 * sidebar. `scope` is `all` (the car maker's, every dealer sees it) or one dealer corp id, like a
 * rule's scope. Tags narrow who it is offered for: lifecycle stages, vehicle models, campaigns
 * (rule ids); an empty list means "any". Texts are templates with the talk-track variables,
 * rendered per customer when the sidebar shows them, never stored rendered. Deleting is soft, so
 * touches that name an item keep pointing at it.
 */
const contentItemSchema = new Schema(
  {
    scope: { type: String, required: true },
    kind: { type: String, enum: CONTENT_KINDS, required: true },
    title: { type: String, required: true },
    /** talk_track: the message text (a template). */
    text: { type: String },
    /** article: link, description (a template), cover image URL; miniprogram: cover image URL. */
    url: { type: String },
    description: { type: String },
    coverUrl: { type: String },
    /** image: the media asset (POST /api/v1/media). */
    assetId: { type: String },
    /** miniprogram: the mini-program's appid and page path. */
    appid: { type: String },
    page: { type: String },
    stages: { type: [String], default: [] },
    models: { type: [String], default: [] },
    campaigns: { type: [String], default: [] },
    createdBy: { type: String },
    updatedBy: { type: String },
    deletedAt: { type: Date },
  },
  { collection: 'content_items', timestamps: true, versionKey: false },
);
contentItemSchema.index({ scope: 1, deletedAt: 1, updatedAt: -1 });

export type ContentItemDocument = InferSchemaType<typeof contentItemSchema>;
export const ContentItemModel: Model<ContentItemDocument> =
  (mongoose.models.ContentItem as Model<ContentItemDocument> | undefined) ??
  mongoose.model<ContentItemDocument>('ContentItem', contentItemSchema);
