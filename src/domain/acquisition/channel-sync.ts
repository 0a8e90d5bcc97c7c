import { Types } from 'mongoose';
import { WecomApiError } from '../../wecom/errors.js';
import type { ContactWayConfig } from '../../wecom/endpoints/contact-way.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { loadAcquisitionSettings } from './acquisition-settings.js';
import { ChannelModel, type ChannelLean } from './channel.model.js';
import { eligibleAdvisors } from './eligibility.js';

/** Contact way errors meaning "this config_id no longer exists" (docs/wecom.md §9.3). */
const GONE = new Set([41043, 41044]);

function isGone(err: unknown): boolean {
  return err instanceof WecomApiError && GONE.has(err.errcode);
}

/**
 * The members a channel's code should carry now. A team code carries the advisors who can answer
 * (on shift, not on leave, under their cap); when nobody qualifies it keeps every active advisor
 * of the channel, so a scan still reaches a person (docs/acquisition.md "Team codes").
 */
export async function desiredMembers(deps: TaskDeps, channel: ChannelLean): Promise<string[]> {
  if (channel.kind !== 'team') return channel.advisors;
  const settings = await loadAcquisitionSettings(deps.corpId);
  const eligible = await eligibleAdvisors(
    {
      corpId: deps.corpId,
      at: deps.clock.now(),
      workingHours: deps.settings.workingHours,
      timeZone: deps.timeZone,
      settings,
    },
    channel.advisors,
  );
  if (eligible.length > 0) return channel.advisors.filter((u) => eligible.some((e) => e.userid === u));
  const active = await AdvisorModel.find(
    { corpId: deps.corpId, userid: { $in: channel.advisors }, status: 'active' },
    { userid: 1 },
  ).lean();
  return active.length > 0 ? channel.advisors.filter((u) => active.some((a) => a.userid === u)) : channel.advisors;
}

/** The whole configuration sent on add and on every update: nothing is left to WeCom's defaults. */
export function contactWayConfig(channel: ChannelLean, users: string[]): ContactWayConfig {
  return { remark: channel.name.slice(0, 30), skip_verify: channel.skipVerify, state: channel.state, user: users };
}

function contactWayType(channel: ChannelLean): 1 | 2 {
  return channel.kind === 'personal' || channel.kind === 'lead' ? 1 : 2;
}

export type SyncOutcome = 'created' | 'updated' | 'deleted' | 'unchanged' | 'stale' | 'not_found' | 'failed';

/**
 * Brings WeCom in step with the channel's latest revision (docs/acquisition.md "Channel codes"):
 * add the contact way (once: a second add racing the first deletes its own code), update it with
 * the whole object, or delete it. A WeCom refusal that will not change on retry (a member who
 * left, a bad state) is stored on the channel as `failed` with WeCom's message.
 */
export async function syncChannel(
  deps: TaskDeps,
  channelId: string,
  opts: { force?: boolean } = {},
): Promise<SyncOutcome> {
  const channel = (await ChannelModel.findOne({
    _id: new Types.ObjectId(channelId),
    corpId: deps.corpId,
  }).lean()) as ChannelLean | null;
  if (!channel) return 'not_found';
  const revision = channel.revision;
  const done = (set: Record<string, unknown>) =>
    ChannelModel.updateOne(
      { _id: channel._id, revision },
      { $set: { ...set, syncedRevision: revision, syncedAt: deps.clock.now() }, $unset: { syncError: 1 } },
    );
  try {
    if (channel.deletedAt) {
      if (channel.syncState === 'deleted') return 'unchanged';
      if (channel.configId)
        await deps.api.delContactWay(channel.configId).catch((err: unknown) => {
          if (!isGone(err)) throw err;
        });
      await done({ syncState: 'deleted' });
      return 'deleted';
    }
    const users = await desiredMembers(deps, channel);
    if (!channel.configId) {
      const made = await deps.api.addContactWay({
        type: contactWayType(channel),
        scene: 2,
        ...contactWayConfig(channel, users),
      });
      const res = await ChannelModel.updateOne(
        { _id: channel._id, configId: { $exists: false } },
        { $set: { configId: made.config_id, qrCode: made.qr_code } },
      );
      if (res.modifiedCount === 0) {
        await deps.api.delContactWay(made.config_id).catch(() => undefined);
        return 'stale';
      }
      await done({ syncState: 'synced', wecomUsers: users });
      return 'created';
    }
    const same = users.length === channel.wecomUsers.length && users.every((u, i) => channel.wecomUsers[i] === u);
    if (!opts.force && same && channel.syncedRevision === revision && channel.syncState === 'synced')
      return 'unchanged';
    await deps.api.updateContactWay(channel.configId, contactWayConfig(channel, users));
    await done({ syncState: 'synced', wecomUsers: users });
    return 'updated';
  } catch (err) {
    if (err instanceof WecomApiError && isGone(err) && !channel.deletedAt) {
      await ChannelModel.updateOne(
        { _id: channel._id },
        { $set: { syncState: 'missing', syncError: 'the contact way no longer exists in WeCom' } },
      );
      return 'failed';
    }
    if (err instanceof WecomApiError && !err.retryable) {
      await ChannelModel.updateOne(
        { _id: channel._id },
        { $set: { syncState: 'failed', syncError: `WeCom ${err.errcode}: ${err.errmsg}`.slice(0, 300) } },
      );
      return 'failed';
    }
    throw err;
  }
}

export interface ReconcileSummary {
  checked: number;
  drifted: number;
  missing: number;
  /** Contact ways in WeCom (made in the last 90 days) that no channel knows. */
  unknownInWecom: number;
}

/**
 * Finds codes changed or removed behind the bot's back (docs/acquisition.md "Reconciliation"):
 * every live channel's contact way is read back; a changed state, remark, verification or member
 * list is put back with a whole-object update (the channel is the source of truth) and counted as
 * drift; a code WeCom no longer has is marked `missing` for an admin to re-create.
 */
export async function reconcileChannels(deps: TaskDeps): Promise<ReconcileSummary> {
  const channels = (await ChannelModel.find({
    corpId: deps.corpId,
    deletedAt: { $exists: false },
    configId: { $exists: true },
  }).lean()) as ChannelLean[];
  const summary: ReconcileSummary = { checked: 0, drifted: 0, missing: 0, unknownInWecom: 0 };
  for (const channel of channels) {
    summary.checked++;
    try {
      const { contact_way: way } = await deps.api.getContactWay(channel.configId as string);
      const users = channel.wecomUsers.length > 0 ? channel.wecomUsers : channel.advisors;
      const drift =
        way.state !== channel.state ||
        (way.remark ?? '') !== channel.name.slice(0, 30) ||
        way.skip_verify !== channel.skipVerify ||
        [...(way.user ?? [])].sort().join('|') !== [...users].sort().join('|');
      if (drift) {
        summary.drifted++;
        await ChannelModel.updateOne({ _id: channel._id }, { $set: { syncState: 'drifted' } });
        await syncChannel(deps, String(channel._id), { force: true });
      } else if (channel.syncState === 'missing' || channel.syncState === 'drifted') {
        await ChannelModel.updateOne({ _id: channel._id }, { $set: { syncState: 'synced' }, $unset: { syncError: 1 } });
      }
    } catch (err) {
      if (!isGone(err)) throw err;
      summary.missing++;
      await ChannelModel.updateOne(
        { _id: channel._id },
        { $set: { syncState: 'missing', syncError: 'the contact way was deleted in WeCom' } },
      );
    }
  }
  const known = new Set(
    (await ChannelModel.find({ corpId: deps.corpId, configId: { $exists: true } }, { configId: 1 }).lean()).map(
      (c) => c.configId,
    ),
  );
  let cursor: string | undefined;
  do {
    const page = await deps.api.listContactWay({ cursor, limit: 1000 });
    summary.unknownInWecom += page.contact_way.filter((w) => !known.has(w.config_id)).length;
    cursor = page.next_cursor || undefined;
  } while (cursor);
  return summary;
}
