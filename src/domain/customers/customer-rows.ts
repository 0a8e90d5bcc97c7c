import type { Types } from 'mongoose';
import { jobRead } from '../../infra/job-reads.js';
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

export function vehicleRowsOf(corpId: string, customerId: Types.ObjectId | string) {
  return jobRead(`vehicles/${corpId}/${String(customerId)}`, () => VehicleModel.find({ corpId, customerId }).lean());
}

/**
 * The customer's row as an event's consumers read it (the owner check of the retention policy, the
 * rule context), once per job; null when it is not in the corp. Any write through the customer
 * model forgets it (its write hooks), like the relationship and vehicle rows.
 */
export function customerRowOf(corpId: string, customerId: Types.ObjectId | string) {
  return jobRead(`customers/${corpId}/${String(customerId)}`, () =>
    CustomerModel.findOne(
      { _id: customerId, corpId },
      { externalUserId: 1, type: 1, lifecycle: 1, optOut: 1, responsibleUserid: 1, birthdayEnc: 1 },
    ).lean(),
  );
}

export type RelationshipRow = Awaited<ReturnType<typeof relationshipRowsOf>>[number];

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
