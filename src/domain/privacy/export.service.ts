import { Types } from 'mongoose';
import { AuditEntryModel } from '../audit/audit-entry.model.js';
import { CorpTagGroupModel } from '../customers/corp-tag.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { storedFieldCtx, type PdContext, type PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { DomainEventRecordModel } from '../events/domain-event-record.model.js';
import { InboundEventModel } from '../inbound/inbound-event.model.js';
import { groupsOfMember } from '../groups/group-privacy.js';
import { MessageBatchModel, MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { ScheduleModel } from '../schedules/schedule.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { ChannelAddModel } from '../acquisition/channel.model.js';
import { LeadModel } from '../acquisition/lead.model.js';
import { TransferModel } from '../tasks/transfer.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { AttributionModel } from '../outcomes/attribution.model.js';
import { OutcomeModel } from '../outcomes/outcome.model.js';

export const EXPORT_FORMAT = 'scrm-customer-export/1';
/** What a keyed look-up hash becomes in an export: it is derived, not information about the person. */
export const HASH_PLACEHOLDER = '[keyed hash of the value above; not reversible]';

/** The collections an export covers, by collection name (docs/data-inventory.md marks them `export`). */
export const EXPORTED_COLLECTIONS = [
  'customers',
  'relationships',
  'vehicles',
  'schedules',
  'message_recipients',
  'message_batches',
  'tasks',
  'rule_executions',
  'domain_events',
  'inbound_events',
  'transfers',
  'audit_entries',
  'outcomes',
  'attributions',
  'customer_groups',
  'customer_group_member_events',
  'leads',
  'channel_adds',
] as const;
export type ExportedCollection = (typeof EXPORTED_COLLECTIONS)[number];

export interface CustomerExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  corpId: string;
  customerId: string;
  /** Corp tag ids on the relationships, with their names. */
  tagNames: Record<string, string>;
  collections: Record<ExportedCollection, unknown[]>;
}

/**
 * Everything the bot holds about one customer (PIPL Art. 45, GDPR Art. 15 and 20; docs/data-inventory.md), as
 * JSON: every stored document that concerns them, field by field, with sealed values opened
 * (`nameEnc` → `name`, `remarkMobilesEnc` → `remarkMobiles`) and keyed hashes shown as a
 * placeholder. Message batches contribute the content the customer was sent.
 */
export async function exportCustomer(
  pd: PersonalData,
  corpId: string,
  customerId: string,
  now: Date,
): Promise<CustomerExport | undefined> {
  const _id = new Types.ObjectId(customerId);
  const customer = await CustomerModel.findOne({ _id, corpId }).lean();
  if (!customer) return undefined;
  const ext = customer.externalUserId;
  // Tasks on their vehicles ("add this owner on WeCom", docs/outcomes.md) concern them too.
  const vehicleIds = (await VehicleModel.find({ corpId, customerId: _id }, { _id: 1 }).lean()).map((v) => v._id);
  const [
    relationships,
    vehicles,
    schedules,
    recipients,
    tasks,
    executions,
    events,
    inbound,
    transfers,
    audit,
    tagGroups,
    outcomes,
    attributions,
  ] = await Promise.all([
    RelationshipModel.find({ corpId, customerId: _id }).lean(),
    VehicleModel.find({ corpId, customerId: _id }).lean(),
    ScheduleModel.find({ corpId, customerId: _id }).lean(),
    MessageRecipientModel.find({ corpId, customerId: _id }).lean(),
    TaskModel.find({
      corpId,
      $or: [{ customerId: _id }, ...(vehicleIds.length > 0 ? [{ vehicleId: { $in: vehicleIds } }] : [])],
    }).lean(),
    ExecutionModel.find({ corpId, subject: { $in: [customerId, `ext:${ext}`] } }).lean(),
    DomainEventRecordModel.find({ corpId, $or: [{ customerId }, { externalUserId: ext }] }).lean(),
    InboundEventModel.find({ corpId, 'ids.externalUserId': ext }).lean(),
    TransferModel.find({ corpId, $or: [{ 'customers.customerId': _id }, { 'customers.externalUserId': ext }] }).lean(),
    AuditEntryModel.find({ 'target.type': 'customer', 'target.id': customerId }).sort({ at: 1 }).lean(),
    CorpTagGroupModel.find({ corpId }, { groupName: 1, tags: 1 }).lean(),
    OutcomeModel.find({ corpId, customerId: _id }, { mobileHash: 0 }).lean(),
    AttributionModel.find({ corpId, customerId: _id }).lean(),
  ]);
  const [leads, channelAdds] = await Promise.all([
    LeadModel.find({ corpId, customerId: _id }).lean(),
    ChannelAddModel.find({ corpId, customerId: _id }).lean(),
  ]);
  const batches = await MessageBatchModel.find(
    { _id: { $in: [...new Set(recipients.map((r) => String(r.batchId)))].map((b) => new Types.ObjectId(b)) } },
    { corpId: 1, sender: 1, content: 1, status: 1, msgid: 1, openedAt: 1, createdTaskAt: 1 },
  ).lean();
  const groups = await groupsOfMember(corpId, _id, ext);
  const tagIds = new Set(relationships.flatMap((r) => r.tagIds ?? []));
  const tagNames: Record<string, string> = {};
  for (const g of tagGroups) for (const t of g.tags) if (tagIds.has(t.id)) tagNames[t.id] = `${g.groupName}/${t.name}`;
  const open = (docs: unknown[], collection = '') => docs.map((d) => reveal(pd, toPlain(d), collection));
  return {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    corpId,
    customerId,
    tagNames,
    collections: {
      customers: open([customer], 'customers'),
      relationships: open(relationships, 'relationships'),
      vehicles: open(vehicles),
      schedules: open(schedules),
      message_recipients: open(recipients),
      message_batches: open(batches),
      tasks: open(tasks),
      rule_executions: open(executions),
      domain_events: open(events),
      inbound_events: open(inbound),
      audit_entries: open(audit),
      outcomes: open(outcomes),
      attributions: open(attributions),
      leads: open(leads, 'leads'),
      channel_adds: open(channelAdds),
      // A transfer lists many customers: only this customer's entry is theirs to see.
      customer_groups: open(groups.groups),
      customer_group_member_events: open(groups.events),
      transfers: open(
        transfers.map((t) => ({
          ...t,
          customers: t.customers.filter((c) => String(c.customerId) === customerId || c.externalUserId === ext),
        })),
      ),
    },
  };
}

/** ObjectIds to hex strings, Dates to ISO strings, Buffers dropped: plain JSON values. */
function toPlain(doc: unknown): unknown {
  return JSON.parse(JSON.stringify(doc)) as unknown;
}

/** The export name of a stored field: `nameEnc` → `name`, `remarkMobilesEnc` → `remarkMobiles`. */
export function exportedFieldName(stored: string): string {
  return stored.endsWith('Enc') ? stored.slice(0, -3) : stored;
}

/**
 * Opens the `*Enc` fields of a top-level document of `collection` at their context (the document's
 * natural key and field, docs/security.md "Data at rest and in transit"); nested values have none.
 */
function reveal(pd: PersonalData, value: unknown, collection?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => reveal(pd, v));
  if (!value || typeof value !== 'object') return value;
  const doc = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(doc)) {
    if (key.endsWith('Enc')) {
      const ctx = collection ? storedFieldCtx(collection, doc, key) : undefined;
      out[exportedFieldName(key)] = Array.isArray(v) ? v.map((x) => openSafely(pd, ctx, x)) : openSafely(pd, ctx, v);
    } else if (/Hash(es)?$/.test(key)) out[key] = Array.isArray(v) ? v.map(() => HASH_PLACEHOLDER) : HASH_PLACEHOLDER;
    else out[key] = reveal(pd, v);
  }
  return out;
}

function openSafely(pd: PersonalData, ctx: PdContext | undefined, sealed: unknown): string | null {
  if (typeof sealed !== 'string') return null;
  try {
    return (ctx ? pd.openFor(ctx, sealed) : pd.cipher.decryptOptional(sealed)) ?? null;
  } catch {
    return '[sealed with a key that is no longer configured, or not for this document]';
  }
}
