import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import { z } from 'zod';
import type { Queues } from '../../queues/queue-factory.js';
import { withOutbox } from '../events/outbox.js';
import { CustomerModel } from './customer.model.js';
import { customerCtx, type CustomerSealedField, type PersonalData } from './personal-data.js';

/** Dealer-supplied attributes: API body and import columns. `null` clears a value. */
export const customerAttributesSchema = z
  .object({
    birthday: z
      .string()
      .regex(/^(\d{4}-)?\d{2}-\d{2}$/, { error: 'use 1985-07-14, or 07-14 when the year is unknown' })
      .refine(
        (v) =>
          !Number.isNaN(Date.parse(`${v.length === 5 ? `2000-${v}` : v}T00:00:00Z`)) &&
          new Date(`${v.length === 5 ? `2000-${v}` : v}T00:00:00Z`).toISOString().slice(5, 10) === v.slice(-5),
        { error: 'is not a real calendar date' },
      )
      .nullable()
      .optional(),
    preferredContactTime: z
      .string()
      .trim()
      .max(40, { error: 'at most 40 characters, e.g. 工作日晚上' })
      .nullable()
      .optional(),
    dmsNotes: z.string().trim().max(500, { error: 'at most 500 characters' }).nullable().optional(),
  })
  .strict();

export type CustomerAttributes = z.infer<typeof customerAttributesSchema>;

export interface AttributeDeps {
  corpId: string;
  pd: PersonalData;
  queues: Queues;
  now: () => Date;
}

/**
 * Applies attributes to one customer: personal ones sealed, unchanged values not rewritten, and a
 * changed birthday emits `customer.anchor_changed` (birthday rules count from it).
 */
export async function updateCustomerAttributes(
  deps: AttributeDeps,
  customerId: Types.ObjectId,
  attrs: CustomerAttributes,
): Promise<{ changed: string[] }> {
  const customer = await CustomerModel.findOne(
    { _id: customerId, corpId: deps.corpId },
    { birthdayEnc: 1, dmsNotesEnc: 1, preferredContactTime: 1, externalUserId: 1 },
  ).lean();
  if (!customer) return { changed: [] };
  const $set: Record<string, string> = {};
  const $unset: Record<string, 1> = {};
  const changed: string[] = [];
  const apply = (
    field: string,
    storedField: string,
    current: string | undefined,
    next: string | null | undefined,
    seal?: (v: string) => string,
  ) => {
    if (next === undefined || (next ?? undefined) === current) return;
    changed.push(field);
    if (next === null || next === '') $unset[storedField] = 1;
    else $set[storedField] = seal ? seal(next) : next;
  };
  // Bound to the customer and field (docs/security.md "Data at rest and in transit").
  const at = (field: CustomerSealedField) =>
    customerCtx({ corpId: deps.corpId, externalUserId: customer.externalUserId }, field);
  const sealer = (field: CustomerSealedField) => (v: string) => deps.pd.sealFor(at(field), v) as string;
  apply(
    'birthday',
    'birthdayEnc',
    deps.pd.openFor(at('birthdayEnc'), customer.birthdayEnc),
    attrs.birthday,
    sealer('birthdayEnc'),
  );
  apply(
    'dmsNotes',
    'dmsNotesEnc',
    deps.pd.openFor(at('dmsNotesEnc'), customer.dmsNotesEnc),
    attrs.dmsNotes,
    sealer('dmsNotesEnc'),
  );
  apply(
    'preferredContactTime',
    'preferredContactTime',
    customer.preferredContactTime ?? undefined,
    attrs.preferredContactTime,
  );
  if (changed.length === 0) return { changed };
  // The event goes into the outbox with the change (docs/reliability.md, "Domain events: the outbox").
  await withOutbox(deps, async (events) => {
    await CustomerModel.updateOne(
      { _id: customerId, corpId: deps.corpId },
      { ...(Object.keys($set).length ? { $set } : {}), ...(Object.keys($unset).length ? { $unset } : {}) },
    );
    if (changed.includes('birthday')) {
      // The source id hashes the new value, so a retried request cannot emit twice.
      const version = createHash('sha256')
        .update(`${String(customerId)}|${attrs.birthday ?? ''}`)
        .digest('base64url')
        .slice(0, 16);
      events.record(
        {
          type: 'customer.anchor_changed',
          corpId: deps.corpId,
          sourceId: `attributes-${version}`,
          occurredAt: deps.now().toISOString(),
          customerId: String(customerId),
          externalUserId: customer.externalUserId,
          data: { field: 'birthday' },
        },
        'birthday',
      );
    }
  });
  return { changed };
}
