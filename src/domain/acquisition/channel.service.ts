import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import type { Queues } from '../../queues/queue-factory.js';
import { channelSyncJob } from '../../queues/jobs/acquisition.jobs.js';
import type { ChannelCreate, ChannelUpdate } from './channel-input.js';
import { ChannelModel, type ChannelKind, type ChannelLean } from './channel.model.js';

export interface ChannelApiDeps {
  corpId: string;
  queues: Queues;
  clock: Clock;
  /** The corp's delivery-state prefixes (retention settings): delivery codes' states start with the first. */
  deliveryPrefixes: string[];
}

/**
 * A fresh `state` (≤ 30 characters, docs/wecom.md §9): a delivery-ceremony code starts with the
 * corp's delivery prefix so the existing retention path makes the customer an owner; any other
 * kind starts with `ch` and never with a delivery prefix.
 */
export function newChannelState(kind: ChannelKind, deliveryPrefixes: string[]): string {
  const suffix = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  if (kind === 'delivery') return `${(deliveryPrefixes[0] ?? 'delivery').slice(0, 16)}-${suffix}`.slice(0, 30);
  const state = `ch${kind[0]}-${suffix}`;
  return deliveryPrefixes.some((p) => state.startsWith(p)) ? `x${state}`.slice(0, 30) : state;
}

function objectId(id: string): Types.ObjectId {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/i.test(id))
    throw new NotFoundError(`no channel ${id}`, 'channel_not_found');
  return new Types.ObjectId(id);
}

async function enqueueSync(deps: ChannelApiDeps, channel: { _id: Types.ObjectId; revision: number }): Promise<void> {
  await channelSyncJob.enqueue(deps.queues, {
    corpId: deps.corpId,
    channelId: String(channel._id),
    revision: channel.revision,
  });
}

/** Creates a channel and asks the worker to make its WeCom contact way. */
export async function createChannel(deps: ChannelApiDeps, input: Omit<ChannelCreate, 'corpId'>): Promise<ChannelLean> {
  const state = newChannelState(input.kind, deps.deliveryPrefixes);
  const created = await ChannelModel.create({
    corpId: deps.corpId,
    ...input,
    state,
    wecomUsers: [],
    revision: 1,
    syncState: 'pending',
  });
  await enqueueSync(deps, { _id: created._id, revision: 1 });
  return created.toObject() as ChannelLean;
}

export async function getChannel(corpId: string, id: string): Promise<ChannelLean> {
  const channel = (await ChannelModel.findOne({ _id: objectId(id), corpId }).lean()) as ChannelLean | null;
  if (!channel) throw new NotFoundError(`no channel ${id}`, 'channel_not_found');
  return channel;
}

/** A corp's channels, newest first; `advisor` narrows to the codes that advisor is on. */
export async function listChannels(
  corpId: string,
  opts: { includeDeleted?: boolean; advisor?: string } = {},
): Promise<ChannelLean[]> {
  return (await ChannelModel.find({
    corpId,
    ...(opts.includeDeleted ? {} : { deletedAt: { $exists: false } }),
    ...(opts.advisor ? { advisors: opts.advisor } : {}),
  })
    .sort({ createdAt: -1 })
    .limit(1000)
    .lean()) as ChannelLean[];
}

/** An edit bumps the revision; the worker sends WeCom the whole object (docs/wecom.md §9.3). */
export async function updateChannel(deps: ChannelApiDeps, id: string, patch: ChannelUpdate): Promise<ChannelLean> {
  const current = await getChannel(deps.corpId, id);
  if (current.deletedAt) throw new ConflictError('the channel was deleted; create a new one', 'channel_deleted');
  const advisors = patch.advisors ?? current.advisors;
  if ((current.kind === 'personal' || current.kind === 'lead') && advisors.length !== 1) {
    throw new ValidationError([
      { path: '/advisors', message: `a ${current.kind} code belongs to exactly one advisor` },
    ]);
  }
  const set: Record<string, unknown> = { syncState: 'pending' };
  const unset: Record<string, 1> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) unset[key] = 1;
    else if (value !== undefined) set[key] = value;
  }
  const updated = (await ChannelModel.findOneAndUpdate(
    { _id: current._id, corpId: deps.corpId, deletedAt: { $exists: false } },
    { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}), $inc: { revision: 1 } },
    { new: true },
  ).lean()) as ChannelLean | null;
  if (!updated) throw new ConflictError('the channel was deleted meanwhile', 'channel_deleted');
  await enqueueSync(deps, updated);
  return updated;
}

/** Marks the channel deleted; the worker deletes the contact way (adds already made stay attributed). */
export async function deleteChannel(deps: ChannelApiDeps, id: string): Promise<ChannelLean> {
  const current = await getChannel(deps.corpId, id);
  if (current.deletedAt) return current;
  const updated = (await ChannelModel.findOneAndUpdate(
    { _id: current._id, corpId: deps.corpId },
    { $set: { deletedAt: deps.clock.now(), syncState: 'deleting' }, $inc: { revision: 1 } },
    { new: true },
  ).lean()) as ChannelLean;
  await enqueueSync(deps, updated);
  return updated;
}

/** What the API answers for a channel. */
export function presentChannel(c: ChannelLean): Record<string, unknown> {
  return {
    id: String(c._id),
    corpId: c.corpId,
    name: c.name,
    kind: c.kind,
    campaign: c.campaign ?? null,
    advisors: c.advisors,
    skipVerify: c.skipVerify,
    cost: c.cost ?? null,
    vehicleVin: c.vehicleVin ?? null,
    state: c.state,
    configId: c.configId ?? null,
    qrCode: c.qrCode ?? null,
    wecomUsers: c.wecomUsers,
    syncState: c.syncState,
    syncError: c.syncError ?? null,
    syncedAt: c.syncedAt ?? null,
    deletedAt: c.deletedAt ?? null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
