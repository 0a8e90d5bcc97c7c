import type { Types } from 'mongoose';
import { changeNotices, type ChangeNotices, type ChangeTopic } from '../../infra/change-notices.js';
import { ChannelModel } from '../acquisition/channel.model.js';
import { AdvisorModel } from '../customers/advisor.model.js';
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
  /** The departments of the corp's advisors `userids`; an advisor not found is absent. */
  advisorDepartments?(corpId: string, userids: readonly string[]): Promise<Map<string, number[]>>;
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

/** The departments of the corp's advisors `userids` straight from MongoDB (one read). */
export async function readAdvisorDepartments(
  corpId: string,
  userids: readonly string[],
): Promise<Map<string, number[]>> {
  if (userids.length === 0) return new Map();
  const rows = await AdvisorModel.find(
    { corpId, userid: { $in: userids } },
    { _id: 0, userid: 1, departments: 1 },
  ).lean();
  return new Map(rows.map((a) => [a.userid, a.departments ?? []]));
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
 * The worker's per-corp copy of its tag groups, enabled rules, channels by state and advisors'
 * departments (docs/scale.md §4). A write in
 * any process clears it through the change notices (src/infra/change-notices.ts), so an edited
 * rule or a new tag is used from the next event on; `ttlMs` (default 60 s) bounds the age of a
 * copy when a notice is lost. Concurrent misses share one load; a failed load is not kept.
 */
export class CorpReadCache implements CorpReads {
  private readonly tags = new Map<string, Entry<TagGroupView[]>>();
  private readonly rules = new Map<string, Entry<Map<string, ActiveRule[]>>>();
  /**
   * By corp and state, null when no channel has the state (kept too: delivery-code states often
   * have no channel doc, and reading them at every add was one MongoDB read per add).
   */
  private readonly channels = new Map<string, Entry<ChannelView | null>>();
  /**
   * By corp and userid: an advisor's departments (undefined: not found, dropped once read). Per
   * advisor rather than per corp: a corp of hundreds of advisors holds only those its adds name.
   */
  private readonly advisors = new Map<string, Entry<number[] | undefined>>();
  private readonly detach: Array<() => void>;

  constructor(private readonly opts: { ttlMs?: number; monotonicMs?: () => number; notices?: ChangeNotices } = {}) {
    const notices = opts.notices ?? changeNotices;
    const clear: Record<Extract<ChangeTopic, 'tags' | 'rules' | 'channels' | 'advisors'>, () => void> = {
      tags: () => this.tags.clear(),
      rules: () => this.rules.clear(),
      channels: () => this.channels.clear(),
      advisors: () => this.advisors.clear(),
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
   * A channel's kind, campaign and delivery vehicle rarely change once it is in use. Found or not,
   * the answer is kept: any channel write (a new code included) clears it in every process through
   * the `channels` notice, so a new channel or an edit is seen from the next add on, or after
   * `ttlMs` when the notice is lost (docs/acquisition.md "Attribution").
   */
  channelOfState(corpId: string, state: string): Promise<ChannelView | null> {
    return this.cached(this.channels, `${corpId}\u0000${state}`, () => readChannelOfState(corpId, state));
  }

  /**
   * The departments rule conditions look at (src/domain/rules/customer-context.ts). Advisors held
   * are served from memory; the others are read in one query of just them. An advisor not found
   * is not kept (a new member is seen at once); a department move is seen from its notice on, or
   * after `ttlMs` when the notice is lost (docs/scale.md §4).
   */
  async advisorDepartments(corpId: string, userids: readonly string[]): Promise<Map<string, number[]>> {
    const now = this.now();
    const held: Array<[string, Promise<number[] | undefined>]> = [];
    const missing: string[] = [];
    for (const userid of new Set(userids)) {
      const hit = this.advisors.get(`${corpId}\u0000${userid}`);
      if (hit && now - hit.loadedAt < this.ttlMs) held.push([userid, hit.value]);
      else missing.push(userid);
    }
    if (missing.length > 0) {
      const read = readAdvisorDepartments(corpId, missing);
      for (const userid of missing) {
        const key = `${corpId}\u0000${userid}`;
        const entry: Entry<number[] | undefined> = { loadedAt: now, value: read.then((found) => found.get(userid)) };
        this.advisors.set(key, entry);
        // Not found or not read: not kept (a later write is a notice; a later insert is a miss).
        const drop = () => {
          if (this.advisors.get(key) === entry) this.advisors.delete(key);
        };
        entry.value.then((departments) => departments ?? drop(), drop);
        held.push([userid, entry.value]);
      }
    }
    const out = new Map<string, number[]>();
    for (const [userid, value] of held) {
      const departments = await value;
      if (departments) out.set(userid, departments);
    }
    return out;
  }

  close(): void {
    for (const detach of this.detach) detach();
    this.tags.clear();
    this.rules.clear();
    this.channels.clear();
    this.advisors.clear();
  }

  private now(): number {
    return (this.opts.monotonicMs ?? performance.now.bind(performance))();
  }

  private get ttlMs(): number {
    return this.opts.ttlMs ?? 60_000;
  }

  private cached<T>(map: Map<string, Entry<T>>, corpId: string, load: () => Promise<T>): Promise<T> {
    const now = this.now();
    const hit = map.get(corpId);
    if (hit && now - hit.loadedAt < this.ttlMs) return hit.value;
    const entry: Entry<T> = { loadedAt: now, value: load() };
    map.set(corpId, entry);
    entry.value.catch(() => {
      if (map.get(corpId) === entry) map.delete(corpId);
    });
    return entry.value;
  }
}
