import type { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { suppressContact } from './suppression.js';
import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { DomainEventRecordModel } from '../events/domain-event-record.model.js';
import { OutboxEventModel } from '../events/outbox-event.model.js';
import { InboundEventModel } from '../inbound/inbound-event.model.js';
import { pseudonymiseGroupMember } from '../groups/group-privacy.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { ScheduleModel } from '../schedules/schedule.model.js';
import { scheduleJobId } from '../schedules/sweep.js';
import { TaskModel } from '../tasks/task.model.js';
import { ChannelAddModel } from '../acquisition/channel.model.js';
import { LeadModel } from '../acquisition/lead.model.js';
import { TransferModel } from '../tasks/transfer.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { AttributionModel } from '../outcomes/attribution.model.js';
import { OutcomeModel } from '../outcomes/outcome.model.js';
import { NoShowModel } from '../outcomes/no-show.model.js';
import type { ErasureReason } from './erasure-reasons.js';
import { purgeJobsMentioning } from './job-purge.js';
import { requestPendingCancel } from './privacy-jobs.js';

export interface ErasureDeps {
  queues: Queues;
  clock: Clock;
  /** Keyed hashes: the erased contact is remembered by a hash of its id only (suppression.ts). */
  hasher: LookupHasher;
  /** Opens sealed inbound job payloads so the purge finds the customer in them (inbound-seal.ts). */
  cipher?: DataCipher;
  logger?: Logger;
}

export interface ErasureInput {
  corpId: string;
  customerId: string;
  reason: ErasureReason;
  ticket?: string;
  /** Who asked: an API principal, or the system actor of the retention sweep. */
  actor: Principal;
  requestId?: string;
}

/** Counts of what an erasure touched (ids and numbers only; this is the tombstone's detail). */
export interface ErasureSummary {
  customerId: string;
  alreadyErased: boolean;
  relationships: number;
  vehicles: number;
  schedules: number;
  messages: number;
  tasks: number;
  executions: number;
  events: number;
  jobs: number;
  /** Leads linked to the customer, their name, mobile and platform ids removed (absent when none). */
  leads?: number;
  /** Relationships WeCom still had active: the contact stays in the advisor's WeCom (see README). */
  stillFollowed: number;
}

/** The system actor of automatic erasures (retention sweep) in audit records. */
export const SYSTEM_ERASER: Principal = { role: 'admin', corps: '*', tokenId: 'system-retention-sweep' };

/** The stand-in external_userid of an erased customer: derived from the row id, so a rerun finds the same. */
export const erasedExternalId = (customerId: string): string => `erased-${customerId}`;

/**
 * Erases one customer's personal data (PIPL Art. 47, GDPR Art. 17; docs/data-inventory.md). In MongoDB the
 * customer and relationship rows stay as anonymised rows so KPIs keep counting: names, unionid,
 * birthday, notes, remarks, descriptions, remark mobiles and every keyed hash of them are removed,
 * and the external_userid is replaced everywhere it was stored (relationships, message recipients,
 * rule executions, domain-event and inbound ledgers, transfers) by `erased-<customer id>`. Vehicles are
 * unlinked, open schedules and tasks cancelled, queued messages cancelled and pending mass-send
 * tasks handed to the worker for `cancel_groupmsg_send`. In Redis the customer's jobs are removed;
 * de-duplication marks hold only hashes and expire within a day. Leaves an audit tombstone with
 * ids, the reason code and counts. Idempotent: a rerun finishes what a crash left.
 */
export async function eraseCustomer(deps: ErasureDeps, input: ErasureInput): Promise<ErasureSummary> {
  const now = deps.clock.now();
  const _id = new Types.ObjectId(input.customerId);
  const { corpId } = input;
  const customer = await CustomerModel.findOne({ _id, corpId }, { externalUserId: 1, erasedAt: 1 }).lean();
  if (!customer) throw new Error(`no customer ${input.customerId} in corp ${corpId}`);
  const pseudonym = erasedExternalId(input.customerId);
  const originalExt = customer.externalUserId;
  const alreadyErased = Boolean(customer.erasedAt) && originalExt === pseudonym;
  const ext = originalExt === pseudonym ? undefined : originalExt;

  // Nothing may collect them again (callbacks, reconciliation) until they add an advisor anew.
  if (ext) await suppressContact(deps.hasher, corpId, ext, now);
  // Stop marketing first: every send path checks the flag, so nothing goes out while we erase.
  await CustomerModel.updateOne({ _id }, { $set: { optOut: { value: true, at: now, source: 'erasure' } } });

  const stillFollowed = await RelationshipModel.countDocuments({ corpId, customerId: _id, status: 'active' });
  const relationships = await RelationshipModel.updateMany(
    { corpId, customerId: _id },
    {
      $set: { externalUserId: pseudonym, remarkMobilesEnc: [], remarkMobileHashes: [] },
      $unset: { remarkEnc: 1, remarkHash: 1, descriptionEnc: 1, noteEnc: 1, noteUpdatedAt: 1 },
    },
  );
  // Their vehicles' "add this owner on WeCom" tasks end too, and the vehicles get no new ones: the
  // owner asked to be forgotten, not to be sought out again (docs/outcomes.md).
  const ownVehicleIds = (await VehicleModel.find({ corpId, customerId: _id }, { _id: 1 }).lean()).map((v) => v._id);
  const vehicles = await VehicleModel.updateMany(
    { corpId, customerId: _id },
    { $set: { ownerErasedAt: now }, $unset: { customerId: 1, externalUserId: 1, linkedAt: 1, unreachableSince: 1 } },
  );
  // DMS outcomes stay the dealer's records, unlinked; their credits keep counting, anonymised (docs/outcomes.md).
  await OutcomeModel.updateMany(
    { corpId, customerId: _id },
    { $set: { matchedBy: 'none' }, $unset: { customerId: 1, mobileHash: 1 } },
  );
  await AttributionModel.updateMany({ corpId, customerId: _id }, { $unset: { customerId: 1 } });
  await NoShowModel.updateMany({ corpId, customerId: _id }, { $unset: { customerId: 1 } });

  // Anchor values are dates of the person (a birthday's MM-DD, a delivery date): removed from every schedule.
  await ScheduleModel.updateMany(
    { corpId, customerId: _id, 'anchor.value': { $exists: true } },
    { $unset: { 'anchor.value': 1 } },
  );
  const openSchedules = await ScheduleModel.find(
    { corpId, customerId: _id, status: { $in: ['planned', 'enqueued'] } },
    { _id: 1 },
  ).lean();
  const schedules = await ScheduleModel.updateMany(
    { corpId, customerId: _id, status: { $in: ['planned', 'enqueued'] } },
    { $set: { status: 'cancelled', cancelledAt: now, cancelReason: 'erased' } },
  );

  const queuedMessages = await MessageRecipientModel.updateMany(
    { corpId, customerId: _id, status: 'queued' },
    { $set: { status: 'cancelled', reason: 'erased' } },
  );
  const pending = await MessageRecipientModel.exists({ corpId, customerId: _id, status: 'pending' });
  if (pending) await requestPendingCancel(deps.queues, { corpId, customerId: input.customerId }, now.getTime());
  await MessageRecipientModel.updateMany({ corpId, customerId: _id }, { $set: { externalUserId: pseudonym } });

  // Tasks hold the rule's template and ids, never the customer's data (docs/tasks.md); open ones end here.
  const tasks = await TaskModel.updateMany(
    {
      corpId,
      status: 'open',
      $or: [{ customerId: _id }, ...(ownVehicleIds.length > 0 ? [{ vehicleId: { $in: ownVehicleIds } }] : [])],
    },
    {
      $set: { status: 'cancelled', notifyPending: false },
      $unset: { nextCheckpointAt: 1 },
      $push: { history: { at: now, actor: 'system', action: 'erased', detail: { reason: input.reason } } },
    },
  );

  // Leads matched to this customer: the person's name, mobile, platform ids and wishes go (docs/data-inventory.md).
  const leads = await LeadModel.updateMany(
    { corpId, customerId: _id },
    {
      $set: { externalUserId: pseudonym },
      $unset: {
        nameEnc: 1,
        nameHash: 1,
        mobileEnc: 1,
        mobileHash: 1,
        sourceId: 1,
        sourceKey: 1,
        budget: 1,
        preferredTime: 1,
        slaCheckpointAt: 1,
        routeAt: 1,
      },
    },
  );

  let executions = 0;
  let events = 0;
  if (ext) {
    executions = (
      await ExecutionModel.updateMany({ corpId, subject: `ext:${ext}` }, { $set: { subject: `ext:${pseudonym}` } })
    ).modifiedCount;
    events = (
      await DomainEventRecordModel.updateMany({ corpId, externalUserId: ext }, { $set: { externalUserId: pseudonym } })
    ).modifiedCount;
    events += (
      await ChannelAddModel.updateMany({ corpId, externalUserId: ext }, { $set: { externalUserId: pseudonym } })
    ).modifiedCount;
    events += (
      await InboundEventModel.updateMany(
        { corpId, 'ids.externalUserId': ext },
        { $set: { 'ids.externalUserId': pseudonym } },
      )
    ).modifiedCount;
    for (const transfer of await TransferModel.find(
      { corpId, 'customers.externalUserId': ext },
      { customers: 1 },
    ).lean()) {
      const customers = transfer.customers.map((c) =>
        c.externalUserId === ext ? { ...c, externalUserId: pseudonym } : c,
      );
      await TransferModel.updateOne({ _id: transfer._id }, { $set: { customers } });
      events++;
    }
    events += await pseudonymiseGroupMember(corpId, ext, pseudonym);
  }

  // Outbox records name the customer; pending ones must not be delivered after the erasure (docs/data-inventory.md).
  events += (
    await OutboxEventModel.deleteMany({
      corpId,
      $or: [{ 'event.customerId': input.customerId }, ...(ext ? [{ 'event.externalUserId': ext }] : [])],
    })
  ).deletedCount;

  // Nor is a leased ledger record's event (one an inbound job had still to run) handed to the queue
  // by the relay loop (docs/reliability.md, "Domain events: the outbox"); its trace stays.
  events += (
    await DomainEventRecordModel.collection.updateMany(
      {
        corpId,
        leaseUntil: { $exists: true },
        $or: [{ customerId: input.customerId }, { externalUserId: { $in: ext ? [ext, pseudonym] : [pseudonym] } }],
      },
      { $set: { status: 'failed', error: 'customer erased before delivery' }, $unset: { leaseUntil: '' } },
    )
  ).modifiedCount;

  const jobs = await purgeJobsMentioning(deps.queues, deps.cipher, [
    input.customerId,
    ...(ext ? [ext] : []),
    ...openSchedules.map((s) => scheduleJobId(String(s._id))),
  ]);

  await CustomerModel.updateOne(
    { _id },
    {
      $set: { externalUserId: pseudonym, erasedAt: customer.erasedAt ?? now },
      $unset: {
        nameEnc: 1,
        nameHash: 1,
        unionidEnc: 1,
        unionidHash: 1,
        birthdayEnc: 1,
        dmsNotesEnc: 1,
        preferredContactTime: 1,
        fetchedAt: 1,
        privacyNotice: 1,
      },
    },
  );

  const summary: ErasureSummary = {
    customerId: input.customerId,
    alreadyErased,
    relationships: relationships.matchedCount,
    vehicles: vehicles.modifiedCount,
    schedules: schedules.modifiedCount,
    messages: queuedMessages.modifiedCount,
    tasks: tasks.modifiedCount,
    executions,
    events,
    jobs,
    stillFollowed,
    ...(leads.matchedCount > 0 ? { leads: leads.matchedCount } : {}),
  };
  await recordAudit({
    actor: input.actor,
    action: 'customer.erase',
    target: { type: 'customer', id: input.customerId, corpId },
    requestId: input.requestId,
    at: now,
    detail: { reason: input.reason, ...(input.ticket ? { ticket: input.ticket } : {}), ...countsOf(summary) },
  });
  deps.logger?.info(
    { corpId, customerId: input.customerId, reason: input.reason, ...countsOf(summary) },
    'customer erased',
  );
  return summary;
}

function countsOf(s: ErasureSummary): Record<string, number | boolean> {
  return {
    alreadyErased: s.alreadyErased,
    relationships: s.relationships,
    vehicles: s.vehicles,
    schedules: s.schedules,
    messages: s.messages,
    tasks: s.tasks,
    executions: s.executions,
    events: s.events,
    jobs: s.jobs,
    stillFollowed: s.stillFollowed,
  };
}
