import type { Types } from 'mongoose';
import { forgetJobReads, jobRead } from '../../infra/job-reads.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { CustomerModel } from './customer.model.js';
import { RelationshipModel } from './relationship.model.js';

/**
 * One customer's relationships and vehicles, read once per job (src/infra/job-reads.ts,
 * docs/scale.md §4): the consumers of a domain event (owner tags, the rule context, follow-up
 * tasks, lead matching) share the rows instead of each reading them again. Whole rows, in the
 * order MongoDB returns them; callers filter and sort copies and never mutate them.
 */
export const relationshipRowsKey = (corpId: string, customerId: Types.ObjectId | string): string =>
  `relationships/${corpId}/${String(customerId)}`;

export function relationshipRowsOf(corpId: string, customerId: Types.ObjectId | string) {
  return jobRead(relationshipRowsKey(corpId, customerId), () => RelationshipModel.find({ corpId, customerId }).lean());
}

export const vehicleRowsKey = (corpId: string, customerId: Types.ObjectId | string): string =>
  `vehicles/${corpId}/${String(customerId)}`;

export function vehicleRowsOf(corpId: string, customerId: Types.ObjectId | string) {
  return jobRead(vehicleRowsKey(corpId, customerId), () => VehicleModel.find({ corpId, customerId }).lean());
}

export const customerRowKey = (corpId: string, customerId: Types.ObjectId | string): string =>
  `customers/${corpId}/${String(customerId)}`;

/** The fields of the customer's row that `customerRowOf` reads. */
export const CUSTOMER_ROW_FIELDS = {
  externalUserId: 1,
  type: 1,
  lifecycle: 1,
  optOut: 1,
  responsibleUserid: 1,
  birthdayEnc: 1,
} as const;

/**
 * The customer's row as an event's consumers read it (the owner check of the retention policy, the
 * rule context), once per job; null when it is not in the corp. Any write through the customer
 * model forgets it (its write hooks), like the relationship and vehicle rows.
 */
export function customerRowOf(corpId: string, customerId: Types.ObjectId | string) {
  return jobRead(customerRowKey(corpId, customerId), () =>
    CustomerModel.findOne({ _id: customerId, corpId }, CUSTOMER_ROW_FIELDS).lean(),
  );
}

export type RelationshipRow = Awaited<ReturnType<typeof relationshipRowsOf>>[number];
export type CustomerRow = NonNullable<Awaited<ReturnType<typeof customerRowOf>>>;

const NOT_KEPT = Symbol('not kept');

/**
 * The customer's relationship rows when the job already holds them (read or handed back), without
 * reading them: undefined outside `withJobReads` or when nothing is kept. A writer that changes
 * some rows uses it to hand the rest back unchanged (`rememberJobRead`) instead of making the
 * job's next consumer read them all again.
 */
export async function keptRelationshipRows(
  corpId: string,
  customerId: Types.ObjectId | string,
): Promise<readonly RelationshipRow[] | undefined> {
  const key = relationshipRowsKey(corpId, customerId);
  let missed = false;
  // `jobRead` calls the read at once when nothing is kept: the placeholder is forgotten before
  // anyone else can see it.
  const kept = jobRead<RelationshipRow[] | typeof NOT_KEPT>(key, () => {
    missed = true;
    return Promise.resolve(NOT_KEPT);
  });
  if (missed) {
    forgetJobReads(key);
    return undefined;
  }
  const rows = await kept;
  if (rows !== NOT_KEPT) return rows;
  forgetJobReads(key); // never left for a consumer, however `jobRead` calls the read
  return undefined;
}

/** The (customer, advisor) row among the customer's rows, else read by the pair (a row without the customer id). */
export async function relationshipOfPair(
  corpId: string,
  customerId: Types.ObjectId | string,
  externalUserId: string,
  userid: string,
): Promise<Pick<RelationshipRow, 'tagIds' | 'remarkMobileHashes'> | null> {
  const rows = await relationshipRowsOf(corpId, customerId);
  return (
    rows.find((r) => r.externalUserId === externalUserId && r.userid === userid) ??
    (await RelationshipModel.findOne({ corpId, externalUserId, userid }, { tagIds: 1, remarkMobileHashes: 1 }).lean())
  );
}
