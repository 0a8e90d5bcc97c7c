import type { Types } from 'mongoose';
import { readAdvisorDepartments, readTagGroups, type CorpReads } from '../corps/corp-read-cache.js';
import { CustomerModel, type LifecycleStage } from '../customers/customer.model.js';
import { CUSTOMER_ROW_FIELDS, customerRowOf, relationshipRowsOf, vehicleRowsOf } from '../customers/customer-rows.js';
import { customerCtx, type PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';

/** What conditions and date triggers look at, loaded once per evaluation. Never logged. */
export interface CustomerContext {
  corpId: string;
  customerId: string;
  externalUserId: string;
  /** 1 WeChat, 2 WeCom. */
  type: number;
  lifecycle: LifecycleStage;
  optOut: boolean;
  responsibleUserid?: string;
  relationships: Array<{ userid: string; state?: string; tagIds: string[]; status: string }>;
  /** `group/name` of every corp tag on an active relationship. */
  tagKeys: Set<string>;
  vehicles: Array<{ vin: string; model?: string; deliveryDate?: Date; insuranceExpiry?: Date; lastServiceDate?: Date }>;
  /** The advisor conditions look at: who added (customer.added) or the responsible advisor. */
  advisor?: { userid: string; departments: number[] };
  /** `MM-DD` (year unknown) or `YYYY-MM-DD`; opened only here, for birthday triggers. */
  birthday?: string;
}

export const tagKey = (group: string, name: string): string => `${group}/${name}`;

/** Tag id → `group/name` for one corp, from the tag cache (the worker's copy of it when `reads` is given). */
export async function tagNamesOf(corpId: string, reads?: Pick<CorpReads, 'tagGroups'>): Promise<Map<string, string>> {
  const groups = reads ? await reads.tagGroups(corpId) : await readTagGroups(corpId);
  const names = new Map<string, string>();
  for (const g of groups) for (const t of g.tags) names.set(t.id, tagKey(g.groupName, t.name));
  return names;
}

type CustomerLean = Awaited<ReturnType<typeof findCustomers>>[number];

function findCustomers(filter: Record<string, unknown>, limit: number) {
  // The same fields as the job's customer row, so a row handed on by the refresh serves it too.
  return CustomerModel.find(filter, CUSTOMER_ROW_FIELDS).sort({ _id: 1 }).limit(limit).lean();
}

/** Loads a customer's context, or undefined when the customer does not exist in that corp. */
export async function loadCustomerContext(
  corpId: string,
  customerId: Types.ObjectId | string,
  opts: { pd?: PersonalData; advisorUserid?: string; reads?: CorpReads } = {},
): Promise<CustomerContext | undefined> {
  // The job's row (src/domain/customers/customer-rows.ts), shared with the retention policy's owner check.
  const customer: CustomerLean | null = await customerRowOf(corpId, customerId);
  if (!customer) return undefined;
  const [ctx] = await buildContexts(corpId, [customer], opts);
  return ctx;
}

/** Contexts of up to `limit` customers matching `filter` (preview), loaded in a few bulk queries. */
export async function loadCustomerContexts(
  corpId: string,
  filter: Record<string, unknown>,
  limit: number,
  pd?: PersonalData,
): Promise<CustomerContext[]> {
  const customers = await findCustomers({ ...filter, corpId }, limit);
  return buildContexts(corpId, customers, { pd });
}

/**
 * The customer-id condition for a page's relationships and vehicles: a large page (sorted by
 * `_id`, as `loadCustomerContexts` reads) is one index range rather than thousands of `$in`
 * values; rows of customers in the range but not in the page are ignored by the grouping.
 */
function customerIdsFilter(ids: readonly unknown[]): Record<string, unknown> {
  if (ids.length < 500) return { $in: ids };
  const sorted = [...ids].sort((a, b) => String(a).localeCompare(String(b)));
  return { $gte: sorted[0], $lte: sorted.at(-1) };
}

function groupByCustomer<T extends { customerId?: unknown }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = String(r.customerId);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

async function buildContexts(
  corpId: string,
  customers: CustomerLean[],
  opts: { pd?: PersonalData; advisorUserid?: string; reads?: CorpReads },
): Promise<CustomerContext[]> {
  const ids = customers.map((c) => c._id);
  const byCustomer = customerIdsFilter(ids);
  // One customer (an event's context): the job's rows, shared with its other consumers.
  const single = customers.length === 1 ? customers[0]?._id : undefined;
  const [relationships, vehicles, tagNames] = await Promise.all([
    single
      ? relationshipRowsOf(corpId, single)
      : RelationshipModel.find(
          { corpId, customerId: byCustomer },
          { customerId: 1, userid: 1, state: 1, tagIds: 1, status: 1 },
        ).lean(),
    single
      ? vehicleRowsOf(corpId, single)
      : VehicleModel.find(
          { corpId, customerId: byCustomer },
          { customerId: 1, vin: 1, model: 1, deliveryDate: 1, insuranceExpiry: 1, lastServiceDate: 1 },
        ).lean(),
    tagNamesOf(corpId, opts.reads),
  ]);
  const advisorIds = [
    ...new Set(customers.map((c) => opts.advisorUserid ?? c.responsibleUserid).filter((u): u is string => Boolean(u))),
  ];
  // The worker's copy when it has one (cleared by every advisor write, docs/scale.md §4).
  const departmentsOf = opts.reads?.advisorDepartments
    ? await opts.reads.advisorDepartments(corpId, advisorIds)
    : await readAdvisorDepartments(corpId, advisorIds);
  // Grouped once by customer: a per-customer filter over the batch is quadratic (docs/engagement.md, "Measured").
  const relsOf = groupByCustomer(relationships);
  const vehiclesOf = groupByCustomer(vehicles);
  return customers.map((customer) => {
    const id = String(customer._id);
    const rels = relsOf.get(id) ?? [];
    const tagKeys = new Set<string>();
    for (const r of rels)
      if (r.status === 'active')
        for (const tagId of r.tagIds ?? []) {
          const k = tagNames.get(tagId);
          if (k) tagKeys.add(k);
        }
    const advisorUserid = opts.advisorUserid ?? customer.responsibleUserid ?? undefined;
    let birthday: string | undefined;
    try {
      birthday =
        opts.pd?.openFor(
          customerCtx({ corpId, externalUserId: customer.externalUserId }, 'birthdayEnc'),
          customer.birthdayEnc,
        ) ?? undefined;
    } catch {
      birthday = undefined; // an undecryptable value counts as unknown, never as an error of the rule
    }
    return {
      corpId,
      customerId: id,
      externalUserId: customer.externalUserId,
      type: customer.type ?? 1,
      lifecycle: (customer.lifecycle?.stage ?? 'prospect') as CustomerContext['lifecycle'],
      optOut: Boolean(customer.optOut?.value),
      responsibleUserid: customer.responsibleUserid ?? undefined,
      relationships: rels.map((r) => ({
        userid: r.userid,
        state: r.state ?? undefined,
        tagIds: r.tagIds ?? [],
        status: r.status ?? 'active',
      })),
      tagKeys,
      vehicles: (vehiclesOf.get(id) ?? []).map((v) => ({
        vin: v.vin,
        model: v.model ?? undefined,
        deliveryDate: v.deliveryDate ?? undefined,
        insuranceExpiry: v.insuranceExpiry ?? undefined,
        lastServiceDate: v.lastServiceDate ?? undefined,
      })),
      advisor: advisorUserid
        ? { userid: advisorUserid, departments: departmentsOf.get(advisorUserid) ?? [] }
        : undefined,
      birthday,
    };
  });
}
