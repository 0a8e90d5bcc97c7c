import { Types } from 'mongoose';
import { ConflictError, ForbiddenError, NotFoundError } from '../../infra/errors.js';
import { canAccessCorp, type Principal } from '../auth/principal.js';
import { RuleModel, RuleVersionModel, type RuleDocument } from './rule.model.js';
import { isWelcomeRule, type RuleBody, type RuleCreate } from './rule.schema.js';

/** A rule as the API and the engine see it. */
export interface RuleView {
  id: string;
  name: string;
  scope: string;
  enabled: boolean;
  disabledCorps: string[];
  version: number;
  body: RuleBody;
  createdAt?: Date;
  updatedAt?: Date;
  deleted: boolean;
  /** An all-corps rule waiting for a second person to switch it on (rule-approval.ts). */
  enableProposal?: { by: string; at: Date; version: number };
  /** Who proposed and who approved the last switch-on of an all-corps rule. */
  enableApproval?: { proposedBy: string; approvedBy: string; at: Date; version: number };
}

export interface RuleVersionView {
  version: number;
  change: string;
  by?: string;
  at: Date;
  body: RuleBody;
}

type RuleLean = RuleDocument & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

export function toRuleView(doc: RuleLean): RuleView {
  return {
    id: String(doc._id),
    name: doc.name,
    scope: doc.scope,
    enabled: doc.enabled,
    disabledCorps: doc.disabledCorps ?? [],
    version: doc.version,
    body: doc.body as RuleBody,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    deleted: Boolean(doc.deletedAt),
    ...(doc.enableProposal
      ? {
          enableProposal: { by: doc.enableProposal.by, at: doc.enableProposal.at, version: doc.enableProposal.version },
        }
      : {}),
    ...(doc.enableApproval
      ? {
          enableApproval: {
            proposedBy: doc.enableApproval.proposedBy,
            approvedBy: doc.enableApproval.approvedBy,
            at: doc.enableApproval.at,
            version: doc.enableApproval.version,
          },
        }
      : {}),
  };
}

/** Whether a principal may author a rule with this scope: all-corps rules need admin or oem. */
function assertCanAuthor(p: Principal, scope: string): void {
  if (scope === 'all') {
    if (p.corps !== '*')
      throw new ForbiddenError(
        'only admin and oem users can author rules for all corps; set scope to your corp id',
        'scope_forbidden',
      );
    return;
  }
  if (!canAccessCorp(p, scope))
    throw new ForbiddenError(`you cannot author rules for corp ${scope}`, 'scope_forbidden');
}

/** Visible = all-corps rules, and corp rules of the principal's corps. */
function visibleFilter(p: Principal): Record<string, unknown> {
  return p.corps === '*' ? {} : { scope: { $in: ['all', ...p.corps] } };
}

/**
 * Rule authoring: every change of the body creates a new version kept in
 * `rule_versions`; what the engine does records the id and version. Writes check the caller's
 * scope; reads see all-corps rules plus their own corps' rules.
 */
export class RuleService {
  constructor(private readonly now: () => Date) {}

  async create(p: Principal, input: RuleCreate, change?: string): Promise<RuleView> {
    const { enabled, ...body } = input;
    assertCanAuthor(p, body.scope);
    const at = this.now();
    const doc = await RuleModel.create({
      name: body.name,
      scope: body.scope,
      enabled,
      version: 1,
      triggerType: body.trigger.type,
      welcome: isWelcomeRule(body),
      priority: body.priority,
      body,
      createdBy: p.tokenId,
      updatedBy: p.tokenId,
    });
    await RuleVersionModel.create({
      ruleId: doc._id,
      version: 1,
      body,
      change: change ?? (enabled ? 'created enabled' : 'created'),
      by: p.tokenId,
      at,
    });
    return toRuleView(doc.toObject() as RuleLean);
  }

  async list(
    p: Principal,
    filter: { scope?: string; enabled?: boolean; includeDeleted?: boolean } = {},
  ): Promise<RuleView[]> {
    const query: Record<string, unknown> = { ...visibleFilter(p) };
    if (filter.scope !== undefined) {
      if (filter.scope !== 'all' && !canAccessCorp(p, filter.scope)) return [];
      query.scope = filter.scope;
    }
    if (filter.enabled !== undefined) query.enabled = filter.enabled;
    if (!filter.includeDeleted) query.deletedAt = { $exists: false };
    const docs = (await RuleModel.find(query).sort({ priority: -1, createdAt: 1 }).limit(500).lean()) as RuleLean[];
    return docs.map(toRuleView);
  }

  /** One rule the principal may see, or 404 (never 403: existence is not revealed). */
  async get(p: Principal, id: string): Promise<RuleView> {
    return toRuleView(await this.findVisible(p, id));
  }

  async history(p: Principal, id: string): Promise<RuleVersionView[]> {
    const doc = await this.findVisible(p, id);
    const versions = await RuleVersionModel.find({ ruleId: doc._id }).sort({ version: -1 }).lean();
    return versions.map((v) => ({
      version: v.version,
      change: v.change,
      by: v.by ?? undefined,
      at: v.at,
      body: v.body as RuleBody,
    }));
  }

  /** Replaces the body: a new version. `expectedVersion` guards against two editors overwriting each other. */
  async update(p: Principal, id: string, body: RuleBody, expectedVersion?: number): Promise<RuleView> {
    const doc = await this.findVisible(p, id);
    assertCanAuthor(p, doc.scope);
    assertCanAuthor(p, body.scope);
    if (doc.deletedAt) throw new ConflictError('the rule was deleted; create a new one', 'rule_deleted');
    const version = doc.version + 1;
    const result = await RuleModel.updateOne(
      { _id: doc._id, version: expectedVersion ?? doc.version },
      {
        $set: {
          name: body.name,
          scope: body.scope,
          version,
          triggerType: body.trigger.type,
          welcome: isWelcomeRule(body),
          priority: body.priority,
          body,
          updatedBy: p.tokenId,
        },
      },
    );
    if (result.matchedCount === 0)
      throw new ConflictError(
        'someone changed this rule meanwhile; reload it and apply your change again',
        'version_conflict',
      );
    await RuleVersionModel.create({ ruleId: doc._id, version, body, change: 'updated', by: p.tokenId, at: this.now() });
    return this.get(p, id);
  }

  /**
   * Switches a rule on or off. For an all-corps rule, a principal of one corp (no all-corps
   * access) switches it only for its corps (`disabledCorps`), as docs/architecture.md §5 allows.
   */
  async setEnabled(p: Principal, id: string, enabled: boolean): Promise<RuleView> {
    const doc = await this.findVisible(p, id);
    if (doc.deletedAt) throw new ConflictError('the rule was deleted', 'rule_deleted');
    if (doc.scope === 'all' && p.corps !== '*') {
      const corps = [...p.corps];
      await RuleModel.updateOne(
        { _id: doc._id },
        enabled ? { $pullAll: { disabledCorps: corps } } : { $addToSet: { disabledCorps: { $each: corps } } },
      );
    } else {
      assertCanAuthor(p, doc.scope);
      await RuleModel.updateOne({ _id: doc._id }, { $set: { enabled, updatedBy: p.tokenId } });
    }
    return this.get(p, id);
  }

  /**
   * Copies a rule the principal can see into a corp it may author for: a new, disabled rule at
   * version 1 (marketing checks it in the new corp before switching it on).
   */
  async duplicate(p: Principal, id: string, corpId: string): Promise<RuleView> {
    const source = toRuleView(await this.findVisible(p, id));
    assertCanAuthor(p, corpId);
    return this.create(
      p,
      { ...source.body, scope: corpId, enabled: false },
      `duplicated from ${source.id} v${source.version}`,
    );
  }

  async remove(p: Principal, id: string): Promise<void> {
    const doc = await this.findVisible(p, id);
    assertCanAuthor(p, doc.scope);
    await RuleModel.updateOne(
      { _id: doc._id, deletedAt: { $exists: false } },
      { $set: { deletedAt: this.now(), enabled: false, updatedBy: p.tokenId } },
    );
  }

  private async findVisible(p: Principal, id: string): Promise<RuleLean> {
    if (!Types.ObjectId.isValid(id)) throw new NotFoundError(`no rule ${id}`, 'rule_not_found');
    const doc = (await RuleModel.findOne({
      _id: new Types.ObjectId(id),
      ...visibleFilter(p),
    }).lean()) as RuleLean | null;
    if (!doc) throw new NotFoundError(`no rule ${id}`, 'rule_not_found');
    return doc;
  }
}
