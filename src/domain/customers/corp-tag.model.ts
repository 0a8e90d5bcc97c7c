import { Schema, model, type InferSchemaType } from 'mongoose';
import { changeNotices } from '../../infra/change-notices.js';

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
const announceTagWrite = () => changeNotices.announce('tags');
corpTagGroupSchema.post('save', announceTagWrite);
corpTagGroupSchema.post('insertMany', announceTagWrite);
corpTagGroupSchema.post(
  ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'],
  announceTagWrite,
);
corpTagGroupSchema.post('bulkWrite', announceTagWrite);

export type CorpTagGroup = InferSchemaType<typeof corpTagGroupSchema>;
export const CorpTagGroupModel = model('CorpTagGroup', corpTagGroupSchema);
