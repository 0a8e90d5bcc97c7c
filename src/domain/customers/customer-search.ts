import { Types } from 'mongoose';
import { z } from 'zod';
import { normalizeMobile } from '../../infra/data-crypto.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { CustomerModel } from './customer.model.js';
import { customerCtx, relationshipCtx, type PersonalData } from './personal-data.js';
import { RelationshipModel } from './relationship.model.js';

export const CUSTOMER_SEARCH_KINDS = ['name', 'remark', 'phone', 'vin'] as const;
export type CustomerSearchKind = (typeof CUSTOMER_SEARCH_KINDS)[number];

/** At most this many customers per answer: a search is for finding one person, not for listing. */
export const SEARCH_LIMIT = 50;
/** A transfer moves at most 1,000 customers per request, so an advisor's list stops there too. */
export const ADVISOR_LIST_LIMIT = 1000;

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

/**
 * Why a search term cannot match, or undefined when it is usable. Personal fields are sealed and
 * indexed by keyed hashes of their normalised value (docs/architecture.md §7), so only exact values can match:
 * a phone is normalised exactly as the hashes were written (`normalizeMobile`: digits, no +86).
 */
export function searchTermProblem(by: CustomerSearchKind, q: string): string | undefined {
  const term = q.trim();
  if (term === '') return 'type the exact value to look for';
  if (by === 'phone') {
    if (!/^[+\d\s()-]+$/.test(term)) return 'a phone number has digits only (spaces, dashes and +86 are ignored)';
    const digits = normalizeMobile(term);
    if (/^1/.test(digits) ? !/^1\d{10}$/.test(digits) : !/^\d{7,15}$/.test(digits))
      return 'a mainland mobile has 11 digits starting with 1 (other numbers 7–15 digits)';
  }
  if (by === 'vin' && !VIN.test(term.toUpperCase())) return 'a VIN has 17 letters and digits (no I, O or Q)';
  if ((by === 'name' || by === 'remark') && term.length > 64) return 'at most 64 characters';
  return undefined;
}

const LOCAL_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The search of `POST /api/v1/customers/search` and the lists of `GET /api/v1/customers` (also in the OpenAPI document). */
export const customerSearchQuery = z
  .object({
    corpId: z.string().min(1).max(64).optional(),
    q: z.string().max(128).optional(),
    by: z.enum(CUSTOMER_SEARCH_KINDS, { error: `by is one of ${CUSTOMER_SEARCH_KINDS.join(', ')}` }).default('name'),
    /** Instead of a search: the customers an advisor actively follows (for transfers). */
    advisor: z
      .string()
      .regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' })
      .optional(),
    /** With `from` and `to` (and `advisor` for one advisor): the customers behind a cockpit number (see customerIdsBehind). */
    status: z.enum(['lost'], { error: 'status is lost' }).optional(),
    lifecycle: z.enum(['owner'], { error: 'lifecycle is owner' }).optional(),
    from: z.string().regex(LOCAL_DAY, { error: 'a day like 2026-06-01' }).optional(),
    to: z.string().regex(LOCAL_DAY, { error: 'a day like 2026-06-30' }).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.status || v.lifecycle) {
      if (!v.from || !v.to)
        ctx.addIssue({
          code: 'custom',
          path: [v.from ? 'to' : 'from'],
          message:
            'status and lifecycle list the customers behind a cockpit number: give from and to (and advisor for one advisor)',
        });
      else if (v.from > v.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to is on or after from' });
      return;
    }
    if (v.advisor !== undefined) return;
    const problem = searchTermProblem(v.by, v.q ?? '');
    if (problem) ctx.addIssue({ code: 'custom', path: ['q'], message: problem });
  });

/** Ids of the customers of one corp whose name, remark, remark mobile or vehicle VIN is exactly `q`. */
export async function findCustomerIds(
  pd: PersonalData,
  corpId: string,
  by: CustomerSearchKind,
  q: string,
): Promise<Types.ObjectId[]> {
  const term = q.trim();
  switch (by) {
    case 'name':
      return (
        await CustomerModel.find({ corpId, nameHash: pd.hash('name', term) }, { _id: 1 })
          .limit(SEARCH_LIMIT)
          .lean()
      ).map((c) => c._id);
    case 'remark':
      return (
        await RelationshipModel.find({ corpId, remarkHash: pd.hash('remark', term) }, { customerId: 1 })
          .limit(SEARCH_LIMIT)
          .lean()
      ).map((r) => r.customerId);
    case 'phone':
      return (
        await RelationshipModel.find({ corpId, remarkMobileHashes: pd.hash('mobile', term) }, { customerId: 1 })
          .limit(SEARCH_LIMIT)
          .lean()
      ).map((r) => r.customerId);
    case 'vin':
      return (
        await VehicleModel.find({ corpId, vin: term.toUpperCase(), customerId: { $exists: true } }, { customerId: 1 })
          .limit(SEARCH_LIMIT)
          .lean()
      ).flatMap((v) => (v.customerId ? [v.customerId] : []));
  }
}

/** Ids of the customers one advisor actively follows (newest relationship first, bounded). */
export async function customerIdsOfAdvisor(corpId: string, userid: string): Promise<Types.ObjectId[]> {
  return (
    await RelationshipModel.find({ corpId, userid, status: 'active' }, { customerId: 1 })
      .sort({ addedAt: -1 })
      .limit(ADVISOR_LIST_LIMIT)
      .lean()
  ).map((r) => r.customerId);
}

/**
 * The customers behind a cockpit number of one advisor (or of the whole corp) over [start, end),
 * as the rollup counts them (kpis/rollup.service.ts): `lost` — relationships the advisor gained in the range that the
 * customer ended within 30 days (the 30-day loss rate's cohort); `owner` — customers the advisor
 * is responsible for who became owners in the range (new owners, delivery-care rate).
 */
export async function customerIdsBehind(
  corpId: string,
  userid: string | undefined,
  cohort: 'lost' | 'owner',
  range: { start: Date; end: Date },
): Promise<Types.ObjectId[]> {
  if (cohort === 'owner') {
    const rows = await CustomerModel.find(
      {
        corpId,
        ...(userid ? { responsibleUserid: userid } : {}),
        lifecycleHistory: { $elemMatch: { stage: 'owner', at: { $gte: range.start, $lt: range.end } } },
      },
      { _id: 1 },
    )
      .limit(ADVISOR_LIST_LIMIT)
      .lean();
    return rows.map((r) => r._id);
  }
  const rows = await RelationshipModel.find(
    {
      corpId,
      ...(userid ? { userid } : {}),
      addedAt: { $gte: range.start, $lt: range.end },
      status: 'deleted_by_customer',
    },
    { customerId: 1, addedAt: 1, statusChangedAt: 1 },
  )
    .sort({ addedAt: -1 })
    .lean();
  return rows
    .filter(
      (r) => r.statusChangedAt && r.addedAt && r.statusChangedAt.getTime() - r.addedAt.getTime() <= LOSS_WINDOW_MS,
    )
    .slice(0, ADVISOR_LIST_LIMIT)
    .map((r) => r.customerId);
}

const LOSS_WINDOW_MS = 30 * 86_400_000;

/** The customer fields a list or profile needs to name and scope a customer. */
export const SUMMARY_FIELDS = {
  corpId: 1,
  externalUserId: 1,
  nameEnc: 1,
  responsibleUserid: 1,
  lifecycle: 1,
  erasedAt: 1,
} as const;

export interface SummarySource {
  _id: Types.ObjectId;
  corpId: string;
  externalUserId: string;
  nameEnc?: string | null;
  responsibleUserid?: string | null;
  lifecycle?: { stage?: string | null } | null;
  erasedAt?: Date | null;
}

/**
 * Display names for customers of one corp, as cards show them (`displayNameOf`): the remark the
 * given advisor (else the responsible one) set, else the WeChat name. Decrypted here only.
 */
export async function displayNames(
  pd: PersonalData,
  corpId: string,
  customers: SummarySource[],
  advisorOf: (c: SummarySource) => string | undefined = (c) => c.responsibleUserid ?? undefined,
): Promise<Map<string, string>> {
  const rels =
    customers.length === 0
      ? []
      : await RelationshipModel.find(
          { corpId, customerId: { $in: customers.map((c) => c._id) }, remarkEnc: { $exists: true } },
          { customerId: 1, externalUserId: 1, userid: 1, remarkEnc: 1 },
        ).lean();
  const names = new Map<string, string>();
  for (const c of customers) {
    const own = rels.filter((r) => String(r.customerId) === String(c._id));
    const preferred = advisorOf(c);
    const remark = own.find((r) => r.userid === preferred) ?? own[0];
    const remarkText = () =>
      remark
        ? pd.openFor(
            relationshipCtx({ corpId, externalUserId: remark.externalUserId, userid: remark.userid }, 'remarkEnc'),
            remark.remarkEnc,
          )
        : undefined;
    names.set(
      String(c._id),
      (c.erasedAt
        ? undefined
        : remarkText() ||
          pd.openFor(customerCtx({ corpId, externalUserId: c.externalUserId }, 'nameEnc'), c.nameEnc)) ?? '',
    );
  }
  return names;
}

/** One customer in a search answer: ids, how to call them, lifecycle. */
export function presentCustomerSummary(c: SummarySource, displayName: string) {
  return {
    id: String(c._id),
    corpId: c.corpId,
    externalUserId: c.externalUserId,
    displayName,
    lifecycle: c.lifecycle?.stage ?? 'prospect',
    responsibleUserid: c.responsibleUserid ?? undefined,
    erased: Boolean(c.erasedAt),
  };
}
export type CustomerSummary = ReturnType<typeof presentCustomerSummary>;

/** Loads, scopes (by `keep`) and names customers by id, in the order given. */
export async function summarize(
  pd: PersonalData,
  corpId: string,
  ids: Types.ObjectId[],
  keep: <T extends SummarySource>(rows: T[]) => Promise<T[]>,
): Promise<CustomerSummary[]> {
  const unique = [...new Set(ids.map(String))].map((id) => new Types.ObjectId(id));
  const rows = (await CustomerModel.find(
    { corpId, _id: { $in: unique } },
    SUMMARY_FIELDS,
  ).lean()) as unknown as SummarySource[];
  const visible = await keep(rows);
  const names = await displayNames(pd, corpId, visible);
  const order = new Map(unique.map((id, i) => [String(id), i]));
  return visible
    .sort((a, b) => (order.get(String(a._id)) ?? 0) - (order.get(String(b._id)) ?? 0))
    .map((c) => presentCustomerSummary(c, names.get(String(c._id)) ?? ''));
}
