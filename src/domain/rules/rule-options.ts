import { canAccessCorp, type Principal } from '../auth/principal.js';
import { CorpModel } from '../corps/corp.model.js';
import { CorpTagGroupModel } from '../customers/corp-tag.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { retentionSettingsSchema } from '../customers/retention-settings.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { ANCHOR_FIELDS, type AnchorField, type RuleBody, type TagRef } from './rule.schema.js';

/** How many distinct channel states / vehicle models a picker offers (the rest can be typed). */
const PICKER_LIMIT = 200;

export interface CorpChoice {
  corpId: string;
  displayName: string;
  /** Whether the principal may author rules in this corp (scope and duplicate targets). */
  writable: boolean;
}

/** What the console's rule form offers in its pickers, all from existing data of one corp. */
export interface RuleOptions {
  corpId?: string;
  corps: CorpChoice[];
  dateFields: AnchorField[];
  tags: TagRef[];
  /** Channel states seen on relationships of the corp, plus the corp's delivery-channel prefixes. */
  channelStates: string[];
  deliveryStatePrefixes: string[];
  vehicleModels: string[];
}

/** Dealer corps the principal sees (car-maker and admin: all of them). */
export async function visibleDealerCorps(p: Principal, canAuthor: boolean): Promise<CorpChoice[]> {
  const filter: Record<string, unknown> = { kind: 'dealer' };
  if (p.corps !== '*') filter.corpId = { $in: [...p.corps] };
  const corps = await CorpModel.find(filter, { corpId: 1, displayName: 1 }).sort({ displayName: 1 }).limit(1000).lean();
  return corps.map((c) => ({
    corpId: c.corpId,
    displayName: c.displayName,
    writable: canAuthor && canAccessCorp(p, c.corpId),
  }));
}

export async function corpTags(corpId: string): Promise<TagRef[]> {
  const groups = await CorpTagGroupModel.find({ corpId }, { groupName: 1, tags: 1, order: 1 })
    .sort({ order: -1, groupName: 1 })
    .lean();
  return groups.flatMap((g) => g.tags.map((t) => ({ group: g.groupName, name: t.name })));
}

async function distinctValues(
  model: typeof RelationshipModel | typeof VehicleModel,
  corpId: string,
  field: 'state' | 'model',
): Promise<string[]> {
  const rows = await (model as typeof RelationshipModel).aggregate<{ _id: string }>([
    { $match: { corpId, [field]: { $exists: true, $nin: [null, ''] } } },
    { $group: { _id: `$${field}` } },
    { $sort: { _id: 1 } },
    { $limit: PICKER_LIMIT },
  ]);
  return rows.map((r) => r._id);
}

export async function corpDeliveryPrefixes(corpId: string): Promise<string[]> {
  const corp = await CorpModel.findOne({ corpId }, { retention: 1 }).lean();
  const parsed = retentionSettingsSchema.safeParse(corp?.retention ?? {});
  return parsed.success ? parsed.data.deliveryStatePrefixes : [];
}

/** The pickers' data for one corp (the caller has checked the principal may read it). */
export async function ruleOptionsForCorp(
  corpId: string,
): Promise<Pick<RuleOptions, 'tags' | 'channelStates' | 'deliveryStatePrefixes' | 'vehicleModels'>> {
  const [tags, channelStates, deliveryStatePrefixes, vehicleModels] = await Promise.all([
    corpTags(corpId),
    distinctValues(RelationshipModel, corpId, 'state'),
    corpDeliveryPrefixes(corpId),
    distinctValues(VehicleModel, corpId, 'model'),
  ]);
  return { tags, channelStates, deliveryStatePrefixes, vehicleModels };
}

export function emptyOptions(corps: CorpChoice[]): RuleOptions {
  return {
    corps,
    dateFields: [...ANCHOR_FIELDS],
    tags: [],
    channelStates: [],
    deliveryStatePrefixes: [],
    vehicleModels: [],
  };
}

/** A warning about a copied rule: a field whose value the target corp does not know. */
export interface CopyWarning {
  path: string;
  message: string;
}

/**
 * What in a rule refers to things the target corp does not have: corp tags it filters on or
 * removes (tags it adds are created on demand, still worth a note), channel states no
 * relationship of the corp carries, vehicle models it has not sold, advisors and departments
 * (WeCom ids are per corp).
 */
export async function copyWarnings(body: RuleBody, corpId: string): Promise<CopyWarning[]> {
  const known = await ruleOptionsForCorp(corpId);
  const tagKeys = new Set(known.tags.map((t) => `${t.group}/${t.name}`));
  const warnings: CopyWarning[] = [];
  const checkTag = (path: string, tag: TagRef, createdOnDemand = false) => {
    if (tagKeys.has(`${tag.group}/${tag.name}`)) return;
    warnings.push({
      path,
      message: createdOnDemand
        ? `the tag ${tag.group}/${tag.name} does not exist in ${corpId} yet; it will be created when the rule first adds it`
        : `the tag ${tag.group}/${tag.name} does not exist in ${corpId}`,
    });
  };
  const stateKnown = (s: { equals?: string; prefix?: string }) => {
    const all = [...known.channelStates, ...known.deliveryStatePrefixes];
    return s.equals !== undefined ? all.includes(s.equals) : all.some((v) => v.startsWith(s.prefix ?? ''));
  };
  const checkState = (path: string, s: { equals?: string; prefix?: string }) => {
    if (!stateKnown(s))
      warnings.push({
        path,
        message: `no customer of ${corpId} came through a channel ${s.equals !== undefined ? `named ${s.equals}` : `starting with ${s.prefix}`} yet`,
      });
  };
  const t = body.trigger;
  if (t.type === 'customer.tag_added' || t.type === 'customer.tag_removed') checkTag('trigger.tag', t.tag);
  if (t.type === 'customer.added' && t.state) checkState('trigger.state', t.state);
  const c = body.conditions;
  if (c.channel) checkState('conditions.channel', c.channel);
  c.hasTags?.forEach((tag, i) => checkTag(`conditions.hasTags[${i}]`, tag));
  c.lacksTags?.forEach((tag, i) => checkTag(`conditions.lacksTags[${i}]`, tag));
  c.vehicleModels?.forEach((m, i) => {
    if (!known.vehicleModels.includes(m))
      warnings.push({ path: `conditions.vehicleModels[${i}]`, message: `no vehicle of model ${m} in ${corpId} yet` });
  });
  if (c.advisors)
    warnings.push({
      path: 'conditions.advisors',
      message: 'advisor userids are per corp; check them for the new corp',
    });
  if (c.departments)
    warnings.push({
      path: 'conditions.departments',
      message: 'department ids are per corp; check them for the new corp',
    });
  body.actions.forEach((a, i) => {
    if (a.type !== 'tag') return;
    a.add.forEach((tag, j) => checkTag(`actions[${i}].add[${j}]`, tag, true));
    a.remove.forEach((tag, j) => checkTag(`actions[${i}].remove[${j}]`, tag));
  });
  return warnings;
}
