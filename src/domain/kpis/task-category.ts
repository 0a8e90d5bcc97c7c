/**
 * What a follow-up task is for (docs/cockpit.md), from the occurrence that fired its rule: the rules
 * engine names occurrences after the trigger's anchor (src/domain/rules/occurrences.ts):
 * `delivery:<vin>` (a date rule on the delivery date), `owner` (became an owner), `vehicle:<vin>`
 * (a vehicle linked) → delivery care; `service:<vin>:<day>` (last service date) → maintenance
 * invitation; `insurance:<vin>:<day>` (insurance expiry) → insurance invitation;
 * `birthday:<year>` → birthday; anything else (added, tags, inactivity ...) → other. Rule names
 * and titles are free text marketing may change; the trigger's date field is not.
 */
export const TASK_CATEGORIES = ['delivery_care', 'maintenance', 'insurance', 'birthday', 'other'] as const;
export type TaskCategory = (typeof TASK_CATEGORIES)[number];

/** Categories counted as invitations (maintenance and insurance renewal). */
export const INVITATION_CATEGORIES: readonly TaskCategory[] = ['maintenance', 'insurance'];

export function taskCategoryOf(occurrenceId: string | null | undefined): TaskCategory {
  const id = occurrenceId ?? '';
  if (id === 'owner' || id.startsWith('delivery:') || id.startsWith('vehicle:')) return 'delivery_care';
  if (id.startsWith('service:')) return 'maintenance';
  if (id.startsWith('insurance:')) return 'insurance';
  if (id.startsWith('birthday:')) return 'birthday';
  return 'other';
}
