import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';

export const JOIN_SCENES = ['direct', 'link', 'qr', 'unknown'] as const;
export type JoinScene = (typeof JOIN_SCENES)[number];

/** `groupchat/get`'s `join_scene` (1 direct, 2 link, 3 QR; docs/wecom.md §11.2) in words. */
export const joinSceneOf = (code: number): JoinScene =>
  code === 1 ? 'direct' : code === 2 ? 'link' : code === 3 ? 'qr' : 'unknown';

const memberSchema = new Schema(
  {
    /** A member's userid (staff) or an external_userid (customer): personal data (docs/data-inventory.md). */
    memberId: { type: String, required: true },
    type: { type: String, enum: ['staff', 'customer'], required: true },
    /** The customer in the customer base, when a customer of the corp. */
    customerId: { type: Schema.Types.ObjectId },
    joinedAt: { type: Date, required: true },
    joinScene: { type: String, enum: JOIN_SCENES, required: true },
    invitor: { type: String },
  },
  { _id: false },
);

/**
 * A customer group (客户群, docs/wecom.md §11) as `groupchat/get` last returned it: every callback
 * refetches, so the row is WeCom's state whatever the order of events (docs/engagement.md).
 * `fetchedAt` orders writes: an older read never overwrites a newer one. Member display names are
 * not stored; the customer base has them.
 */
const groupSchema = new Schema(
  {
    corpId: { type: String, required: true },
    chatId: { type: String, required: true },
    name: { type: String, default: '' },
    ownerUserid: { type: String },
    admins: { type: [String], default: [] },
    members: { type: [memberSchema], default: [] },
    memberCount: { type: Number, default: 0 },
    customerCount: { type: Number, default: 0 },
    memberVersion: { type: String },
    notice: { type: String, default: '' },
    status: { type: String, enum: ['active', 'dismissed'], required: true, default: 'active' },
    /** groupchat/list status: 0 normal, 1 owner left, 2 inheriting, 3 inherited. */
    wecomStatus: { type: Number, default: 0 },
    /** The group's purpose, set in the console: `model:汉兰达`, `delivery:2026-05`, `region:东区`. */
    purposeTags: { type: [String], default: [] },
    createdInWecomAt: { type: Date },
    fetchedAt: { type: Date, required: true },
    dismissedAt: { type: Date },
    lastChangeAt: { type: Date },
  },
  { collection: 'customer_groups', timestamps: true, versionKey: false, minimize: false },
);
groupSchema.index({ corpId: 1, chatId: 1 }, { unique: true });
groupSchema.index({ corpId: 1, ownerUserid: 1, status: 1 });
groupSchema.index({ corpId: 1, 'members.customerId': 1 });
groupSchema.index({ corpId: 1, purposeTags: 1 });

export type GroupDocument = InferSchemaType<typeof groupSchema>;
export const GroupModel: Model<GroupDocument> =
  (mongoose.models.CustomerGroup as Model<GroupDocument> | undefined) ??
  mongoose.model<GroupDocument>('CustomerGroup', groupSchema);

/**
 * Join and quit history: one row per membership start and end. The key is (chat, member, kind,
 * join time), so a repeated or concurrent refetch writes the same row once.
 */
const memberEventSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    corpId: { type: String, required: true },
    chatId: { type: String, required: true },
    memberId: { type: String, required: true },
    type: { type: String, enum: ['staff', 'customer'], required: true },
    customerId: { type: Schema.Types.ObjectId },
    kind: { type: String, enum: ['join', 'quit'], required: true },
    at: { type: Date, required: true },
    joinScene: { type: String, enum: JOIN_SCENES },
  },
  { collection: 'customer_group_member_events', timestamps: true, versionKey: false },
);
memberEventSchema.index({ corpId: 1, at: 1, kind: 1 });
memberEventSchema.index({ corpId: 1, chatId: 1, at: 1 });
memberEventSchema.index({ corpId: 1, customerId: 1 });

export type GroupMemberEventDocument = InferSchemaType<typeof memberEventSchema>;
export const GroupMemberEventModel: Model<GroupMemberEventDocument> =
  (mongoose.models.CustomerGroupMemberEvent as Model<GroupMemberEventDocument> | undefined) ??
  mongoose.model<GroupMemberEventDocument>('CustomerGroupMemberEvent', memberEventSchema);
