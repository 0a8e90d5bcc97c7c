import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/infra/clock.js';
import { generateEncodingAesKey } from '../../../src/wecom/callback-crypto.js';
import { newCorpId, newExternalUserId, newTagId } from './ids.js';
import type { CorpWorld, Customer, Follow, Member, Tag } from './model.js';
import { seedSchema } from './seed-schema.js';

/**
 * The sandbox's state for one or more corps: members, customers, follow relationships, tags and
 * everything sent. Mutated by the API handlers and the callback driver; read by `/__sandbox/world`.
 */
export class World {
  readonly corps = new Map<string, CorpWorld>();

  constructor(private readonly clock: Clock) {}

  nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  reset(): void {
    this.corps.clear();
  }

  /** Validates a scenario (zod) and loads it; returns the corp ids (generated where omitted). */
  seed(input: unknown): { corpIds: string[] } {
    const scenario = seedSchema.parse(input);
    if (scenario.mode === 'replace') this.reset();
    const corpIds: string[] = [];
    const now = this.nowSec();
    for (const c of scenario.corps) {
      const corpId = c.corpId ?? newCorpId();
      const corp: CorpWorld = {
        corpId,
        name: c.name,
        agentId: c.agentId,
        secret: c.secret ?? randomBytes(32).toString('base64url').slice(0, 43),
        callback: {
          token: c.callback.token ?? randomToken(),
          encodingAesKey: c.callback.encodingAesKey ?? generateEncodingAesKey(),
          url: c.callback.url,
        },
        contactSync: c.contactSync
          ? {
              token: c.contactSync.token ?? randomToken(),
              encodingAesKey: c.contactSync.encodingAesKey ?? generateEncodingAesKey(),
              url: c.contactSync.url,
            }
          : undefined,
        departments: c.departments.map((d) => ({ ...d })),
        members: c.members.map((m) => ({
          userid: m.userid,
          name: m.name,
          department: m.department,
          isLeaderInDept: m.isLeaderInDept ?? m.department.map(() => 0),
          directLeader: m.directLeader,
          mainDepartment: m.department[0] ?? 1,
          position: m.position,
          status: m.status,
          visible: m.visible,
          customerContact: m.customerContact,
          dimissionTime: m.dimissionTime,
        })),
        customers: [],
        follows: [],
        tagGroups: [],
        tags: [],
        welcomeCodes: [],
        welcomes: [],
        messages: [],
        responseCodes: [],
        cardUpdates: [],
        taskIds: [],
        massTasks: [],
        massQuota: {},
        media: [],
        oauthCodes: [],
        transfers: [],
        groups: [],
        groupWelcomeTemplates: [],
        moments: [],
        contactWays: [],
      };
      for (const g of c.tagGroups) {
        const groupId = g.group_id ?? newTagId();
        corp.tagGroups.push({
          group_id: groupId,
          group_name: g.group_name,
          create_time: now,
          order: g.order,
          createdByApp: g.createdByApp,
        });
        for (const t of g.tags) {
          corp.tags.push({
            id: t.id ?? newTagId(),
            name: t.name,
            group_id: groupId,
            create_time: now,
            order: t.order,
            createdByApp: g.createdByApp,
          });
        }
      }
      for (const cu of c.customers) {
        const customer: Customer = {
          external_userid: cu.external_userid ?? newExternalUserId(),
          name: cu.name,
          type: cu.type,
          gender: cu.gender,
          unionid: cu.unionid,
        };
        corp.customers.push(customer);
        for (const f of cu.follows) {
          if (!corp.members.some((m) => m.userid === f.userid))
            throw new Error(`seed: customer "${customer.external_userid}" follows unknown member "${f.userid}"`);
          corp.follows.push({
            userid: f.userid,
            external_userid: customer.external_userid,
            remark: f.remark,
            description: f.description,
            remark_corp_name: f.remark_corp_name,
            remark_mobiles: f.remark_mobiles,
            createtime: f.createtime ?? now - 86_400 * 7,
            add_way: f.add_way,
            oper_userid: customer.external_userid,
            state: f.state,
            tagIds: f.tags.map((ref) => {
              const tag = findTag(corp, ref);
              if (!tag) throw new Error(`seed: unknown tag "${ref}"`);
              return tag.id;
            }),
            personalTags: f.personalTags,
            status: f.status,
          });
        }
      }
      this.corps.set(corpId, corp);
      corpIds.push(corpId);
    }
    return { corpIds };
  }

  /** A JSON copy of the world (fake data only, so it may be shown in full). */
  snapshot(corpId?: string): { corps: CorpWorld[] } {
    const corps = [...this.corps.values()].filter((c) => !corpId || c.corpId === corpId);
    return JSON.parse(JSON.stringify({ corps })) as { corps: CorpWorld[] };
  }

  /**
   * Replaces the world with one saved by `snapshot()` (the dev stack keeps it beside the bot's
   * data, so ids the bot stored stay valid across restarts; docs/wecom-sandbox.md).
   */
  restore(saved: { corps: CorpWorld[] }): void {
    this.reset();
    for (const corp of saved.corps) {
      // Worlds saved before customer groups and Moments existed.
      corp.groups ??= [];
      corp.groupWelcomeTemplates ??= [];
      corp.moments ??= [];
      this.corps.set(corp.corpId, corp);
    }
  }

  corp(corpId: string): CorpWorld | undefined {
    return this.corps.get(corpId);
  }
}

export function findMember(corp: CorpWorld, userid: string): Member | undefined {
  const lower = userid.toLowerCase();
  return corp.members.find((m) => m.userid.toLowerCase() === lower);
}

export function findCustomer(corp: CorpWorld, externalUserId: string): Customer | undefined {
  return corp.customers.find((c) => c.external_userid === externalUserId);
}

export function findFollow(corp: CorpWorld, userid: string, externalUserId: string): Follow | undefined {
  const lower = userid.toLowerCase();
  return corp.follows.find((f) => f.userid.toLowerCase() === lower && f.external_userid === externalUserId);
}

/** A tag by id, or by name (`name` or `group/name`). */
export function findTag(corp: CorpWorld, ref: string): Tag | undefined {
  const byId = corp.tags.find((t) => t.id === ref);
  if (byId) return byId;
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const group = corp.tagGroups.find((g) => g.group_name === ref.slice(0, slash));
    return corp.tags.find((t) => t.group_id === group?.group_id && t.name === ref.slice(slash + 1));
  }
  return corp.tags.find((t) => t.name === ref);
}

function randomToken(): string {
  return randomBytes(16).toString('hex').slice(0, 24);
}
