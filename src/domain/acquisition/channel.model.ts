import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { announceWrites } from '../../infra/change-notices.js';

export const CHANNEL_KINDS = ['personal', 'team', 'event', 'delivery', 'lead'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
/** Where the channel's WeCom contact way stands (docs/acquisition.md "Channel codes"). */
export const CHANNEL_SYNC_STATES = [
  'pending',
  'synced',
  'failed',
  'deleting',
  'deleted',
  'drifted',
  'missing',
] as const;

/**
 * A channel (渠道活码, docs/acquisition.md): one WeCom 「联系我」 contact way made and kept in step
 * by the bot. `state` (≤ 30 chars, unique per corp) comes back in every add through the code and
 * attributes it to the channel, its campaign and the advisor. No customer personal data here;
 * the name is the marketing team's label and advisors are employees' userids.
 */
const channelSchema = new Schema(
  {
    corpId: { type: String, required: true },
    name: { type: String, required: true },
    kind: { type: String, enum: CHANNEL_KINDS, required: true },
    campaign: { type: String },
    /** Advisors behind the code; a team code's WeCom member list is the eligible subset. */
    advisors: { type: [String], default: [] },
    skipVerify: { type: Boolean, default: true },
    /** What the code cost (yuan), for cost per add. */
    cost: { type: Number },
    /** A delivery-ceremony code made for one delivery: the vehicle linked on add. */
    vehicleVin: { type: String },
    state: { type: String, required: true },
    configId: { type: String },
    qrCode: { type: String },
    /** The WeCom members currently on the code (team codes: the eligible advisors). */
    wecomUsers: { type: [String], default: [] },
    /** Bumped on every edit; the sync job applies the latest revision only. */
    revision: { type: Number, default: 1 },
    syncedRevision: { type: Number, default: 0 },
    syncState: { type: String, enum: CHANNEL_SYNC_STATES, default: 'pending' },
    syncError: { type: String },
    syncedAt: { type: Date },
    deletedAt: { type: Date },
  },
  { timestamps: true, collection: 'channels', versionKey: false },
);
channelSchema.index({ corpId: 1, state: 1 }, { unique: true });
channelSchema.index({ configId: 1 }, { unique: true, sparse: true });
channelSchema.index({ corpId: 1, kind: 1, deletedAt: 1 });
// The worker keeps a corp's channels by state (src/domain/corps/corp-read-cache.ts): a write clears them.
announceWrites(channelSchema, 'channels');

export type Channel = InferSchemaType<typeof channelSchema>;
export type ChannelLean = Channel & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export const ChannelModel = model('Channel', channelSchema);

/**
 * One add through a channel, or through a state no channel knows (`channelId` absent: "unknown
 * channel"). Unique per (corp, customer, advisor, state) so a replayed event counts once.
 */
const channelAddSchema = new Schema(
  {
    corpId: { type: String, required: true },
    state: { type: String, required: true },
    channelId: { type: Schema.Types.ObjectId },
    campaign: { type: String },
    customerId: { type: Schema.Types.ObjectId },
    externalUserId: { type: String, required: true },
    userid: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'channel_adds', versionKey: false },
);
channelAddSchema.index({ corpId: 1, externalUserId: 1, userid: 1, state: 1 }, { unique: true });
channelAddSchema.index({ corpId: 1, channelId: 1, at: 1 });
export const ChannelAddModel = model('ChannelAdd', channelAddSchema);

/**
 * An advisor's availability for routing (docs/acquisition.md "Routing"): off shift, on leave until
 * a date, and a cap on open leads. No record = on shift in working hours, default cap.
 */
const availabilitySchema = new Schema(
  {
    corpId: { type: String, required: true },
    userid: { type: String, required: true },
    offShift: { type: Boolean, default: false },
    leaveUntil: { type: Date },
    leadCap: { type: Number },
    /** On duty outside working hours (receives leads that arrive then). */
    onDuty: { type: Boolean, default: false },
    /** When routing last gave this advisor a lead (round-robin among equals). */
    lastLeadAt: { type: Date },
  },
  { timestamps: true, collection: 'advisor_availability', versionKey: false },
);
availabilitySchema.index({ corpId: 1, userid: 1 }, { unique: true });
export const AdvisorAvailabilityModel = model('AdvisorAvailability', availabilitySchema);
