import { Types } from 'mongoose';
import { ForbiddenError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { canAccessCorp, type Principal } from '../auth/principal.js';
import { corpProfile } from '../corps/corp-queries.js';
import { assertAssetsInScope } from '../messages/media-scope.js';
import { ContentItemModel, type ContentItemDocument } from './content-item.model.js';
import type { ContentItemInput, ContentKind } from './content.schema.js';

/** A library item as the API and the console see it (templates unrendered). */
export interface ContentItemView {
  id: string;
  scope: string;
  kind: ContentKind;
  title: string;
  text?: string;
  url?: string;
  description?: string;
  coverUrl?: string;
  assetId?: string;
  appid?: string;
  page?: string;
  stages: string[];
  models: string[];
  campaigns: string[];
  updatedAt?: Date;
  updatedBy?: string;
}

export type ContentItemLean = ContentItemDocument & { _id: Types.ObjectId; updatedAt?: Date };

const KIND_FIELDS = ['text', 'url', 'description', 'coverUrl', 'assetId', 'appid', 'page'] as const;

export function toContentView(doc: ContentItemLean): ContentItemView {
  const view: ContentItemView = {
    id: String(doc._id),
    scope: doc.scope,
    kind: doc.kind as ContentKind,
    title: doc.title,
    stages: doc.stages ?? [],
    models: doc.models ?? [],
    campaigns: doc.campaigns ?? [],
    updatedAt: doc.updatedAt,
    updatedBy: doc.updatedBy ?? undefined,
  };
  for (const f of KIND_FIELDS) if (doc[f]) view[f] = doc[f];
  return view;
}

/** Items a principal sees: the car maker's (`all`) and their own corps' (docs/console.md, "Content library"). */
export function visibleContentFilter(p: Principal): Record<string, unknown> {
  return p.corps === '*' ? {} : { scope: { $in: ['all', ...p.corps] } };
}

/** Like a rule: `all` needs an all-corps principal (car maker, admin); a corp scope must be a dealer corp of theirs. */
async function assertCanAuthor(p: Principal, scope: string): Promise<void> {
  if (scope === 'all') {
    if (p.corps !== '*')
      throw new ForbiddenError(
        'only car-maker and admin users write items for all dealers; set scope to your corp id',
        'scope_forbidden',
      );
    return;
  }
  if (!canAccessCorp(p, scope)) throw new ForbiddenError(`you cannot write items for corp ${scope}`, 'scope_forbidden');
  const corp = await corpProfile(scope);
  if (corp?.kind !== 'dealer')
    throw new ValidationError([{ path: '/scope', message: `no dealer corp ${scope}; use all or a dealer corp id` }]);
}

/** The stored fields of an input: every kind-specific field set or unset, so a kind change leaves nothing behind. */
function fieldsOf(input: ContentItemInput): { $set: Record<string, unknown>; $unset: Record<string, 1> } {
  const $set: Record<string, unknown> = {
    scope: input.scope,
    kind: input.kind,
    title: input.title,
    stages: input.stages,
    models: input.models,
    campaigns: input.campaigns,
  };
  const $unset: Record<string, 1> = {};
  const given = input as Partial<Record<(typeof KIND_FIELDS)[number], string>>;
  for (const f of KIND_FIELDS) {
    if (given[f] !== undefined) $set[f] = given[f];
    else $unset[f] = 1;
  }
  return { $set, $unset };
}

const byId = (id: string) => {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/.test(id))
    throw new NotFoundError(`no content item ${id}`, 'content_not_found');
  return new Types.ObjectId(id);
};

/**
 * The content library (docs/console.md, "Content library"): marketing writes items for its
 * corp, the car maker for every dealer; reads see both. An item of another corp answers 404 like
 * a missing one. Images must be media of the item's scope (media-scope.ts).
 */
export class ContentService {
  constructor(private readonly now: () => Date) {}

  async list(p: Principal, q: { scope?: string; kind?: ContentKind }): Promise<ContentItemView[]> {
    const filter: Record<string, unknown> = { ...visibleContentFilter(p), deletedAt: { $exists: false } };
    if (q.scope) {
      if (q.scope !== 'all' && !canAccessCorp(p, q.scope)) return [];
      filter.scope = q.scope;
    }
    if (q.kind) filter.kind = q.kind;
    const docs = await ContentItemModel.find(filter).sort({ updatedAt: -1 }).limit(500).lean();
    return docs.map((d) => toContentView(d as ContentItemLean));
  }

  async get(p: Principal, id: string): Promise<ContentItemView> {
    const doc = await ContentItemModel.findOne({
      _id: byId(id),
      ...visibleContentFilter(p),
      deletedAt: { $exists: false },
    }).lean();
    if (!doc) throw new NotFoundError(`no content item ${id}`, 'content_not_found');
    return toContentView(doc as ContentItemLean);
  }

  async create(p: Principal, input: ContentItemInput): Promise<ContentItemView> {
    await assertCanAuthor(p, input.scope);
    await assertAssetsInScope(input);
    const { $set } = fieldsOf(input);
    const doc = await ContentItemModel.create({ ...$set, createdBy: p.tokenId, updatedBy: p.tokenId });
    return toContentView(doc.toObject() as ContentItemLean);
  }

  /** Replaces an item; the caller must be able to author both its current and its new scope. */
  async replace(p: Principal, id: string, input: ContentItemInput): Promise<ContentItemView> {
    const current = await this.get(p, id);
    await assertCanAuthor(p, current.scope);
    await assertCanAuthor(p, input.scope);
    await assertAssetsInScope(input);
    const { $set, $unset } = fieldsOf(input);
    const doc = await ContentItemModel.findOneAndUpdate(
      { _id: byId(id), deletedAt: { $exists: false } },
      { $set: { ...$set, updatedBy: p.tokenId }, ...(Object.keys($unset).length ? { $unset } : {}) },
      { returnDocument: 'after' },
    ).lean();
    if (!doc) throw new NotFoundError(`no content item ${id}`, 'content_not_found');
    return toContentView(doc as ContentItemLean);
  }

  async remove(p: Principal, id: string): Promise<ContentItemView> {
    const current = await this.get(p, id);
    await assertCanAuthor(p, current.scope);
    await ContentItemModel.updateOne({ _id: byId(id) }, { $set: { deletedAt: this.now(), updatedBy: p.tokenId } });
    return current;
  }
}
