import type { Types } from 'mongoose';
import { changeNotices, type ChangeNotices, type ChangeTopic } from '../../infra/change-notices.js';
import { ChannelModel } from '../acquisition/channel.model.js';
import { CorpTagGroupModel } from '../customers/corp-tag.model.js';
import { loadEnabledRulesOfCorp, type ActiveRule, type EnabledRulesSource } from '../rules/engine/rule-finder.js';
import type { TriggerType } from '../rules/rule.schema.js';

/** A corp tag group as the worker reads it: WeCom ids and names. */
export interface TagGroupView {
  groupId: string;
  groupName: string;
  tags: Array<{ id: string; name: string }>;
}

/**
 * What the worker reads for every add of a corp and rarely changes: the corp's tag groups and its
 * enabled rules (docs/scale.md §4). Implemented by `CorpReadCache`; the services read MongoDB
 * directly when their deps carry none (tests, CLIs, the web process).
 */
export interface CorpReads extends EnabledRulesSource {
  tagGroups(corpId: string): Promise<TagGroupView[]>;
  /** The channel of a `state` (unique per corp), null when no channel has it. */
  channelOfState?(corpId: string, state: string): Promise<ChannelView | null>;
}

/** What an add's attribution reads of its channel. */
export interface ChannelView {
  _id: Types.ObjectId;
  kind: string;
  campaign?: string | null;
  vehicleVin?: string | null;
}

/** The channel of a state straight from MongoDB. */
export function readChannelOfState(corpId: string, state: string): Promise<ChannelView | null> {
  return ChannelModel.findOne({ corpId, state }, { kind: 1, campaign: 1, vehicleVin: 1 }).lean().exec();
}

/** The corp's tag groups straight from MongoDB. */
export async function readTagGroups(corpId: string): Promise<TagGroupView[]> {
  const groups = await CorpTagGroupModel.find({ corpId }, { groupId: 1, groupName: 1, tags: 1 }).lean();
  return groups.map((g) => ({
    groupId: g.groupId,
    groupName: g.groupName,
    tags: g.tags.map((t) => ({ id: t.id, name: t.name })),
  }));
}

interface Entry<T> {
  loadedAt: number;
  value: Promise<T>;
}

/**
 * The worker's per-corp copy of its tag groups and enabled rules (docs/scale.md §4). A write in
 * any process clears it through the change notices (src/infra/change-notices.ts), so an edited
 * rule or a new tag is used from the next event on; `ttlMs` (default 60 s) bounds the age of a
 * copy when a notice is lost. Concurrent misses share one load; a failed load is not kept.
 */
export class CorpReadCache implements CorpReads {
  private readonly tags = new Map<string, Entry<TagGroupView[]>>();
  private readonly rules = new Map<string, Entry<Map<string, ActiveRule[]>>>();
  /** By corp and state; only found channels are kept (a state no channel has is read each time). */
  private readonly channels = new Map<string, Entry<ChannelView | null>>();
  private readonly detach: Array<() => void>;

  constructor(private readonly opts: { ttlMs?: number; monotonicMs?: () => number; notices?: ChangeNotices } = {}) {
    const notices = opts.notices ?? changeNotices;
    const clear: Record<Extract<ChangeTopic, 'tags' | 'rules' | 'channels'>, () => void> = {
      tags: () => this.tags.clear(),
      rules: () => this.rules.clear(),
      channels: () => this.channels.clear(),
    };
    this.detach = (Object.keys(clear) as Array<keyof typeof clear>).map((topic) => notices.on(topic, clear[topic]));
  }

  tagGroups(corpId: string): Promise<TagGroupView[]> {
    return this.cached(this.tags, corpId, () => readTagGroups(corpId));
  }

  async enabledRules(corpId: string, triggerType: TriggerType): Promise<ActiveRule[]> {
    const byTrigger = await this.cached(this.rules, corpId, async () => {
      const grouped = new Map<string, ActiveRule[]>();
      for (const { triggerType: type, ...rule } of await loadEnabledRulesOfCorp(corpId)) {
        const list = grouped.get(type);
        if (list) list.push(rule);
        else grouped.set(type, [rule]);
      }
      return grouped;
    });
    return byTrigger.get(triggerType) ?? [];
  }

  /**
   * A channel's kind, campaign and delivery vehicle rarely change once it is in use; a new channel
   * is seen at once (a state not found is not kept), an edit from the next add on (the notice),
   * or after `ttlMs` when the notice is lost.
   */
  async channelOfState(corpId: string, state: string): Promise<ChannelView | null> {
    const key = `${corpId}\u0000${state}`;
    const value = this.cached(this.channels, key, () => readChannelOfState(corpId, state));
    const found = await value;
    if (!found && this.channels.get(key)?.value === value) this.channels.delete(key);
    return found;
  }

  close(): void {
    for (const detach of this.detach) detach();
    this.tags.clear();
    this.rules.clear();
    this.channels.clear();
  }

  private cached<T>(map: Map<string, Entry<T>>, corpId: string, load: () => Promise<T>): Promise<T> {
    const now = (this.opts.monotonicMs ?? performance.now.bind(performance))();
    const hit = map.get(corpId);
    if (hit && now - hit.loadedAt < (this.opts.ttlMs ?? 60_000)) return hit.value;
    const entry: Entry<T> = { loadedAt: now, value: load() };
    map.set(corpId, entry);
    entry.value.catch(() => {
      if (map.get(corpId) === entry) map.delete(corpId);
    });
    return entry.value;
  }
}
