import type { Types } from 'mongoose';
import { WecomApiError } from '../../wecom/errors.js';
import type { ExternalContact, FollowInfo, FollowUser } from '../../wecom/endpoints/external-contact.js';
import { isSuppressed } from '../privacy/suppression.js';
import { withOutbox, type EventRecorder } from '../events/outbox.js';
import { rememberJobRead } from '../../infra/job-reads.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import {
  chooseResponsibleAdvisor,
  customerSnapshot,
  diffTags,
  relationshipSnapshot,
  type RelationshipForResponsibility,
} from './contact-snapshot.js';
import type { CustomerDeps } from './customer-deps.js';
import {
  customerRowKey,
  relationshipRowsKey,
  vehicleRowsKey,
  type CustomerRow,
  type RelationshipRow,
} from './customer-rows.js';
import { CustomerModel } from './customer.model.js';
import { RelationshipModel } from './relationship.model.js';
import { isDeliveryChannel, type RetentionSettings } from './retention-settings.js';

/** What one refresh changed, for the caller's follow-up work (welcome, owner rules, alerts). */
export interface RefreshResult {
  customerId?: Types.ObjectId;
  /** False when WeCom says no member follows this customer any more (84061). */
  visible: boolean;
  createdCustomer: boolean;
  /** Relationships that are new or were re-established by this refresh, with their channel state. */
  added: Array<{ userid: string; state?: string }>;
  tagChanges: Array<{ userid: string; added: string[]; removed: string[] }>;
  /** Advisors whose stored active relationship WeCom no longer lists. */
  vanishedUserids: string[];
}

export interface RefreshOptions {
  externalUserId: string;
  /** The source of this refresh (inbound dedup key, `reconcile-<run>` ...), for event job ids. */
  sourceId: string;
  /** When the triggering event happened; an add older than a later deletion does not revive it. */
  eventAt: Date;
  /** An add event for this advisor: (re)activate the relationship unless a newer status change exists. */
  addedBy?: string;
  /** Whether to emit domain events (reconciliation and callbacks do; a dry run does not). */
  emit?: boolean;
  /**
   * The corp's retention settings, when the caller has them (the callback handlers): an add
   * through a delivery channel then makes the customer an owner in this same transaction, with
   * its `customer.became_owner` event, instead of a second transaction in the `customer.added`
   * consumer (which still does it for a refresh without them; docs/scale.md §4).
   */
  retention?: RetentionSettings;
}

/**
 * Makes the stored customer and relationships equal WeCom's truth (`externalcontact/get`, paged
 * past 500 followers), and records `customer.added` and tag events for what changed in the outbox,
 * in the same transaction as the change (docs/reliability.md, "Domain events: the outbox"). Idempotent:
 * refreshing twice changes and emits nothing the second time. Out-of-order callbacks converge
 * because truth is refetched rather than applied as a delta.
 */
export async function refreshCustomerFromWecom(deps: CustomerDeps, opts: RefreshOptions): Promise<RefreshResult> {
  // The erasure check comes once, after the fetch (applyContactSnapshot): it is the one that also
  // covers an erasure landing while WeCom answers; an erased contact's rare callback costs a fetch
  // whose answer is dropped unstored (docs/data-inventory.md, `erased_contacts`).
  return applyContactSnapshot(deps, await fetchContact(deps, opts.externalUserId), opts);
}

/** An erased contact (docs/data-inventory.md): nothing is fetched, stored or emitted. */
function suppressedResult(deps: CustomerDeps, opts: RefreshOptions): RefreshResult {
  deps.logger.info({ corpId: deps.corpId }, 'callback for an erased contact ignored (erasure suppression)');
  void opts;
  return { visible: false, createdCustomer: false, added: [], tagChanges: [], vanishedUserids: [] };
}

/**
 * Applies one customer's WeCom state (from `externalcontact/get` or `batch/get_by_user`). `scope`
 * names the advisors the snapshot speaks for: a stored active relationship of an advisor in scope
 * that the snapshot does not list has ended. Without `scope` the snapshot is complete.
 */
export async function applyContactSnapshot(
  deps: CustomerDeps,
  fetched: FetchedContact | undefined,
  opts: RefreshOptions & { scope?: ReadonlySet<string> },
): Promise<RefreshResult> {
  const { corpId, pd } = deps;
  if (fetched && (await isSuppressed(pd.hasher, corpId, opts.externalUserId, opts.addedBy ? opts.eventAt : undefined)))
    return suppressedResult(deps, opts);

  if (!fetched) {
    const result: RefreshResult = {
      visible: false,
      createdCustomer: false,
      added: [],
      tagChanges: [],
      vanishedUserids: [],
    };
    // Nobody in the corp follows them now: end whatever we still hold as active.
    const stale = await RelationshipModel.find({
      corpId,
      externalUserId: opts.externalUserId,
      status: 'active',
    }).lean();
    for (const rel of stale.filter((r) => !opts.scope || opts.scope.has(r.userid))) {
      await RelationshipModel.updateOne(
        { _id: rel._id, corpId, status: 'active' },
        { $set: { status: 'deleted_by_advisor', statusChangedAt: opts.eventAt, statusCause: 'not_in_wecom' } },
      );
      result.vanishedUserids.push(rel.userid);
    }
    const customer = await CustomerModel.findOne({ corpId, externalUserId: opts.externalUserId }, { _id: 1 }).lean();
    result.customerId = customer?._id;
    return result;
  }
  // The events are stored with the change, so a retry after any failure finds them (the rows it
  // would otherwise compare against already exist and would emit nothing).
  const { result, kept } = await withOutbox(deps, (events) => applyFetchedContact(deps, fetched, opts, events));
  // Committed: the rows as the change left them go to the job's later consumers (owner tags, the
  // rule context, lead matching) instead of being read again (src/infra/job-reads.ts).
  if (kept && result.customerId) {
    rememberJobRead(customerRowKey(corpId, result.customerId), kept.customer);
    if (kept.relationships) rememberJobRead(relationshipRowsKey(corpId, result.customerId), kept.relationships);
    // A customer inserted by this change has no vehicle: none can carry its new id yet.
    if (result.createdCustomer) rememberJobRead(vehicleRowsKey(corpId, result.customerId), []);
  }
  return result;
}

/** The rows a refresh leaves, as the job's consumers read them (customer-rows.ts). */
interface KeptRows {
  customer: CustomerRow;
  /** Undefined when a write did not do what was read (a concurrent change): the consumers read. */
  relationships?: RelationshipRow[];
}

async function applyFetchedContact(
  deps: CustomerDeps,
  fetched: FetchedContact,
  opts: RefreshOptions & { scope?: ReadonlySet<string> },
  events: EventRecorder,
): Promise<{ result: RefreshResult; kept?: KeptRows }> {
  const { corpId, pd, clock } = deps;
  const result: RefreshResult = {
    visible: true,
    createdCustomer: false,
    added: [],
    tagChanges: [],
    vanishedUserids: [],
  };
  const now = clock.now();
  const snapshot = customerSnapshot(fetched.contact, pd, corpId);
  // Read before the customer's upsert (they are found by the contact, not the customer id), so
  // the upsert knows whether this change adds a relationship through a delivery channel.
  const stored = await RelationshipModel.find({ corpId, externalUserId: snapshot.externalUserId }).lean();
  const byUserid = new Map(stored.map((rel) => [rel.userid, rel]));
  const follows = fetched.followUsers.map((follow) => ({
    follow,
    next: relationshipSnapshot(follow, pd, { corpId, externalUserId: snapshot.externalUserId }),
  }));
  const addsRelationship = (userid: string, addedAt: Date) => {
    const previous = byUserid.get(userid);
    return !previous || (previous.status !== 'active' && reactivates(previous, opts, addedAt));
  };
  const retention = opts.emit !== false ? opts.retention : undefined;
  const deliveryAdd =
    retention !== undefined &&
    follows.some(
      ({ follow, next }) => isDeliveryChannel(retention, next.state) && addsRelationship(follow.userid, next.addedAt),
    );
  // The relationships as this change will leave them when every write does what was read: for a
  // customer this change inserts (no vehicle yet) the responsible advisor is stored with the
  // insert instead of a second write (docs/scale.md §4).
  const planned = new Map<string, RelationshipForResponsibility>(
    stored.map((rel) => [rel.userid, { userid: rel.userid, status: rel.status, addedAt: rel.addedAt }]),
  );
  for (const { follow, next } of follows) {
    const previous = byUserid.get(follow.userid);
    const revive = previous !== undefined && previous.status !== 'active' && reactivates(previous, opts, next.addedAt);
    planned.set(follow.userid, {
      userid: follow.userid,
      status: !previous || revive ? 'active' : previous.status,
      addedAt: next.addedAt,
    });
  }
  const listedNow = new Set(follows.map(({ follow }) => follow.userid));
  for (const rel of stored)
    if (rel.status === 'active' && !listedNow.has(rel.userid) && (!opts.scope || opts.scope.has(rel.userid)))
      planned.set(rel.userid, { userid: rel.userid, status: 'deleted_by_advisor', addedAt: rel.addedAt });
  const plannedResponsible = chooseResponsibleAdvisor([...planned.values()]);
  const prospect = { stage: 'prospect', reason: 'added', at: opts.eventAt } as const;
  const owner = { stage: 'owner', reason: 'delivery_channel', at: opts.eventAt } as const;
  const upserted = await CustomerModel.findOneAndUpdate(
    { corpId, externalUserId: snapshot.externalUserId },
    {
      $set: {
        type: snapshot.type,
        nameEnc: snapshot.nameEnc,
        nameHash: snapshot.nameHash,
        unionidEnc: snapshot.unionidEnc,
        unionidHash: snapshot.unionidHash,
        fetchedAt: now,
      },
      // A new customer added through a delivery channel is stored as an owner at once, with the
      // history the two steps (added, then owner) would leave.
      $setOnInsert: {
        ...(deliveryAdd
          ? {
              lifecycle: { stage: owner.stage, reason: owner.reason, changedAt: owner.at },
              lifecycleHistory: [prospect, owner],
            }
          : {
              lifecycle: { stage: prospect.stage, reason: prospect.reason, changedAt: prospect.at },
              lifecycleHistory: [prospect],
            }),
        ...(plannedResponsible ? { responsibleUserid: plannedResponsible } : {}),
      },
    },
    { upsert: true, returnDocument: 'after', includeResultMetadata: true },
  )
    .lean()
    // Lean with the result's metadata: mongoose's types describe the document alone.
    .then((raw) => raw as unknown as UpsertedCustomer);
  const customer = upserted.value;
  if (!customer) throw new Error('customer upsert returned nothing');
  result.customerId = customer._id;
  result.createdCustomer = upserted.lastErrorObject?.updatedExisting === false;
  let becameOwner = deliveryAdd && result.createdCustomer;
  // The customer's row as the job's consumers read it (customer-rows.ts); undefined when a write
  // did not do what was read.
  let customerRow: CustomerRow | undefined = {
    _id: customer._id,
    externalUserId: customer.externalUserId,
    type: customer.type,
    lifecycle: customer.lifecycle,
    optOut: customer.optOut,
    responsibleUserid: customer.responsibleUserid,
    birthdayEnc: customer.birthdayEnc,
  } as CustomerRow;
  if (deliveryAdd && !result.createdCustomer && customer.lifecycle?.stage !== 'owner') {
    const changed = await CustomerModel.updateOne(
      { _id: customer._id, corpId, 'lifecycle.stage': { $ne: 'owner' } },
      {
        $set: { lifecycle: { stage: owner.stage, reason: owner.reason, changedAt: owner.at } },
        $push: { lifecycleHistory: owner },
      },
    );
    becameOwner = changed.modifiedCount === 1;
    customerRow = becameOwner
      ? { ...customerRow, lifecycle: { stage: owner.stage, reason: owner.reason, changedAt: owner.at } }
      : undefined;
  }

  const listed = new Set<string>();
  // The customer's rows as this change leaves them, for the responsible advisor and the job's
  // later consumers without reading them again (docs/scale.md §4); undefined when a write did not
  // do what was read (or a row found by the contact belongs to another customer).
  const own = String(customer._id);
  let rows: Map<string, RelationshipRow> | undefined = stored.every((rel) => String(rel.customerId) === own)
    ? new Map(stored.map((rel) => [rel.userid, rel]))
    : undefined;

  for (const { follow, next } of follows) {
    listed.add(follow.userid);
    const previous = byUserid.get(follow.userid);
    const sealed = definedOnly({
      state: next.state,
      addWay: next.addWay,
      addedAt: next.addedAt,
      remarkEnc: next.remarkEnc,
      remarkHash: next.remarkHash,
      descriptionEnc: next.descriptionEnc,
      remarkMobilesEnc: next.remarkMobilesEnc,
      remarkMobileHashes: next.remarkMobileHashes,
      tagIds: next.tagIds,
    });
    if (!previous) {
      const onInsert = {
        customerId: customer._id,
        status: 'active' as const,
        statusChangedAt: opts.eventAt,
        statusCause: 'added',
      };
      const inserted = await RelationshipModel.updateOne(
        { corpId, userid: follow.userid, externalUserId: snapshot.externalUserId },
        { $set: sealed, $setOnInsert: onInsert },
        { upsert: true },
      );
      if (inserted.upsertedCount === 1 && inserted.upsertedId)
        rows?.set(follow.userid, {
          _id: inserted.upsertedId as Types.ObjectId,
          corpId,
          userid: follow.userid,
          externalUserId: snapshot.externalUserId,
          remarkMobilesEnc: [],
          remarkMobileHashes: [],
          tagIds: [],
          ...sealed,
          ...onInsert,
          createdAt: now,
          updatedAt: now,
        } as RelationshipRow);
      else rows = undefined;
      result.added.push({ userid: follow.userid, state: next.state });
      continue;
    }
    const revive = previous.status !== 'active' && reactivates(previous, opts, next.addedAt);
    const revived = revive ? { status: 'active' as const, statusChangedAt: opts.eventAt, statusCause: 'added' } : {};
    const updated = await RelationshipModel.updateOne(
      { _id: previous._id, corpId },
      { $set: { ...sealed, ...revived } },
    );
    if (updated.matchedCount === 1) rows?.set(follow.userid, { ...previous, ...sealed, ...revived, updatedAt: now });
    else rows = undefined;
    if (revive) result.added.push({ userid: follow.userid, state: next.state });
    const changes = diffTags(previous.tagIds ?? [], next.tagIds);
    if (changes.added.length > 0 || changes.removed.length > 0)
      result.tagChanges.push({ userid: follow.userid, ...changes });
  }

  // Active here but not listed by WeCom: the member deleted the customer (or a transfer moved them).
  for (const rel of stored) {
    if (rel.status === 'active' && !listed.has(rel.userid) && (!opts.scope || opts.scope.has(rel.userid))) {
      const ending = {
        status: 'deleted_by_advisor' as const,
        statusChangedAt: opts.eventAt,
        statusCause: 'not_in_wecom',
      };
      const ended = await RelationshipModel.updateOne({ _id: rel._id, corpId, status: 'active' }, { $set: ending });
      if (ended.modifiedCount === 1) rows?.set(rel.userid, { ...rel, ...ending, updatedAt: now });
      else rows = undefined;
      result.vanishedUserids.push(rel.userid);
    }
  }

  const after = rows ? [...rows.values()] : undefined;
  // A customer inserted by this change has no vehicle yet (none can carry its new id): its
  // responsible advisor was stored with the insert, from the relationships planned; written again
  // only when the writes left them otherwise.
  const responsible = await recomputeResponsibleAdvisor(corpId, customer._id, {
    relationships: after,
    noVehicles: result.createdCustomer,
    current: result.createdCustomer ? (plannedResponsible ?? null) : (customer.responsibleUserid ?? undefined),
  });
  const kept: KeptRows | undefined = customerRow
    ? { customer: { ...customerRow, responsibleUserid: responsible }, relationships: after }
    : undefined;
  if (opts.emit !== false) recordRefreshEvents(deps, opts, result, events);
  if (becameOwner) {
    // The id the `customer.added` consumer's owner change would give it (retention-policy.ts).
    events.record({
      type: 'customer.became_owner',
      corpId,
      sourceId: `customer.added-${opts.sourceId}`,
      occurredAt: opts.eventAt.toISOString(),
      customerId: String(customer._id),
      externalUserId: snapshot.externalUserId,
      data: { reason: owner.reason },
    });
  }
  return { result, kept };
}

/** The fields whose value is defined: an update leaves a field it is given as undefined as it was. */
function definedOnly<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The customer's upsert, lean, with the driver's result metadata. */
interface UpsertedCustomer {
  value: (Omit<CustomerRow, 'lifecycle'> & { lifecycle?: CustomerRow['lifecycle'] & { stage?: string | null } }) | null;
  lastErrorObject?: { updatedExisting?: boolean };
}

/**
 * An add event re-establishes an ended relationship only when it is newer than the status change
 * (a delayed add must not undo a later deletion); without an add event, a WeCom createtime newer
 * than the change means the customer was added again while we missed the callback.
 */
function reactivates(
  previous: { status: string; statusChangedAt?: Date | null; userid: string },
  opts: RefreshOptions,
  addedAt: Date,
): boolean {
  const changedAt = previous.statusChangedAt?.getTime() ?? 0;
  if (opts.addedBy === previous.userid) return opts.eventAt.getTime() > changedAt;
  // A customer who deleted the advisor still appears in follow_user (a one-way relationship, docs/wecom.md §2.1).
  if (previous.status === 'deleted_by_customer') return false;
  return addedAt.getTime() > changedAt;
}

/** What a caller already knows, so the recomputation reads and writes only the rest. */
export interface KnownForResponsibility {
  /** Every relationship of the customer, as stored now. */
  relationships?: readonly RelationshipForResponsibility[];
  /** The customer has no vehicle (it was just inserted). */
  noVehicles?: boolean;
  /** The stored responsible advisor, when known: an unchanged one is not written again. */
  current?: string | null;
}

/** Recomputes and stores the responsible advisor (docs/architecture.md §4); returns it. */
export async function recomputeResponsibleAdvisor(
  corpId: string,
  customerId: Types.ObjectId,
  known: KnownForResponsibility = {},
): Promise<string | undefined> {
  const [relationships, vehicles] = await Promise.all([
    known.relationships ?? RelationshipModel.find({ corpId, customerId }, { userid: 1, status: 1, addedAt: 1 }).lean(),
    known.noVehicles
      ? []
      : VehicleModel.find({ corpId, customerId, salesUserid: { $exists: true } }, { salesUserid: 1, deliveryDate: 1 })
          .sort({ deliveryDate: -1 })
          .lean(),
  ]);
  const responsible = chooseResponsibleAdvisor(
    relationships,
    vehicles.map((v) => v.salesUserid).filter((u): u is string => Boolean(u)),
  );
  if ('current' in known && (known.current ?? undefined) === responsible) return responsible;
  await CustomerModel.updateOne(
    { _id: customerId, corpId },
    responsible ? { $set: { responsibleUserid: responsible } } : { $unset: { responsibleUserid: 1 } },
  );
  return responsible;
}

/** One source (a callback, a reconciliation run) may speak for many customers: ids include the pair. */
function recordRefreshEvents(
  deps: CustomerDeps,
  opts: RefreshOptions,
  result: RefreshResult,
  events: EventRecorder,
): void {
  const base = {
    corpId: deps.corpId,
    sourceId: opts.sourceId,
    occurredAt: opts.eventAt.toISOString(),
    customerId: String(result.customerId),
    externalUserId: opts.externalUserId,
  };
  for (const { userid, state } of result.added) {
    events.record(
      { ...base, type: 'customer.added', userid, data: { state: state ?? null } },
      `${opts.externalUserId}/${userid}`,
    );
  }
  for (const change of result.tagChanges) {
    for (const tagId of change.added)
      events.record(
        { ...base, type: 'customer.tag_added', userid: change.userid, data: { tagId } },
        `${opts.externalUserId}/${change.userid}/${tagId}`,
      );
    for (const tagId of change.removed)
      events.record(
        { ...base, type: 'customer.tag_removed', userid: change.userid, data: { tagId } },
        `${opts.externalUserId}/${change.userid}/${tagId}`,
      );
  }
}

export interface FetchedContact {
  contact: ExternalContact;
  followUsers: Array<FollowUser | FollowInfo>;
}

/** `externalcontact/get` with `next_cursor` paging past 500 followers; undefined on 84061/40096. */
async function fetchContact(deps: CustomerDeps, externalUserId: string): Promise<FetchedContact | undefined> {
  const followUsers: FollowUser[] = [];
  let contact: ExternalContact | undefined;
  let cursor: string | undefined;
  try {
    do {
      const page = await deps.api.getExternalContact(externalUserId, cursor);
      contact = page.external_contact;
      followUsers.push(...(page.follow_user ?? []));
      cursor = page.next_cursor || undefined;
    } while (cursor);
  } catch (err) {
    if (err instanceof WecomApiError && (err.errcode === 84061 || err.errcode === 40096)) return undefined;
    throw err;
  }
  return contact ? { contact, followUsers } : undefined;
}
