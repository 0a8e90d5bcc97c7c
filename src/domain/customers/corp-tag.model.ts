import { Schema, model, type InferSchemaType } from 'mongoose';
import { announceWrites } from '../../infra/change-notices.js';

/**
 * Cache of a corp's customer tag groups and tags with their WeCom ids (docs/wecom.md §3.7),
 * refreshed on `change_external_tag` and by reconciliation.
 */
const corpTagGroupSchema = new Schema(
  {
    corpId: { type: String, required: true },
    groupId: { type: String, required: true },
    groupName: { type: String, required: true },
    order: { type: Number, default: 0 },
    tags: {
      type: [
        new Schema(
          {
            id: { type: String, required: true },
            name: { type: String, required: true },
            order: { type: Number, default: 0 },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    syncedAt: { type: Date },
  },
  { timestamps: true, collection: 'corp_tag_groups' },
);
corpTagGroupSchema.index({ corpId: 1, groupId: 1 }, { unique: true });
corpTagGroupSchema.index({ corpId: 1, groupName: 1 });
corpTagGroupSchema.index({ corpId: 1, 'tags.id': 1 });

// Workers hold the tag groups in memory (src/domain/corps/corp-read-cache.ts): every write tells them.
announceWrites(corpTagGroupSchema, 'tags');

export type CorpTagGroup = InferSchemaType<typeof corpTagGroupSchema>;
export const CorpTagGroupModel = model('CorpTagGroup', corpTagGroupSchema);
