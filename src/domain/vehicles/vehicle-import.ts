import { customerAttributesSchema, updateCustomerAttributes } from '../customers/customer-attributes.service.js';
import { vehicleInputSchema } from './vehicle-input.js';
import { upsertVehicle, type VehicleDeps } from './vehicle.service.js';

/** CSV header → field. Headers are matched case-insensitively; unknown columns are refused up front. */
export const IMPORT_COLUMNS = {
  vin: 'vin',
  model: 'model',
  delivery_date: 'deliveryDate',
  mileage_km: 'mileageKm',
  mileage_date: 'mileageDate',
  last_service_date: 'lastServiceDate',
  insurance_expiry: 'insuranceExpiry',
  sales_userid: 'salesUserid',
  external_userid: 'externalUserId',
  unionid: 'unionid',
  mobile: 'mobile',
  birthday: 'birthday',
  preferred_contact_time: 'preferredContactTime',
  dms_notes: 'dmsNotes',
} as const;

const ATTRIBUTE_FIELDS = new Set(['birthday', 'preferredContactTime', 'dmsNotes']);

export interface ImportRow {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  record: Record<string, string>;
}

export interface RejectedRow extends ImportRow {
  problems: string[];
}

export interface ImportSummary {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  linked: number;
  rejected: RejectedRow[];
}

/** Headers the import does not know (a typo would silently drop a column otherwise). */
export function unknownColumns(headers: readonly string[]): string[] {
  return headers.filter((h) => !(h.trim().toLowerCase() in IMPORT_COLUMNS));
}

function toInput(record: Record<string, string>): {
  vehicle: Record<string, string>;
  attributes: Record<string, string>;
} {
  const vehicle: Record<string, string> = {};
  const attributes: Record<string, string> = {};
  for (const [header, raw] of Object.entries(record)) {
    const field = IMPORT_COLUMNS[header.trim().toLowerCase() as keyof typeof IMPORT_COLUMNS];
    const value = raw?.trim();
    if (!field || !value) continue; // empty cell = no change
    (ATTRIBUTE_FIELDS.has(field) ? attributes : vehicle)[field] = value;
  }
  return { vehicle, attributes };
}

/** Rows in flight at once: enough to hide MongoDB and Redis round trips, small enough to be polite. */
const CONCURRENCY = 16;

/**
 * Imports DMS rows: each row is validated and applied whole, so a rejected row changes nothing,
 * and unchanged rows write and emit nothing (a re-import is a no-op). Up to 16 rows are applied
 * at once; rows with the same VIN stay in file order. `rejected` is sorted by line. Calls
 * `onRow` for progress.
 */
export async function importVehicleRows(
  deps: VehicleDeps,
  rows: AsyncIterable<ImportRow>,
  onRow: (done: number) => void = () => undefined,
): Promise<ImportSummary> {
  const summary: ImportSummary = { rows: 0, created: 0, updated: 0, unchanged: 0, linked: 0, rejected: [] };
  const lastByVin = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for await (const row of rows) {
    summary.rows++;
    const vinKey = (row.record.vin ?? row.record.VIN ?? '').trim().toUpperCase();
    const previous = lastByVin.get(vinKey) ?? Promise.resolve();
    const task: Promise<void> = previous
      .then(() => importRow(deps, row, summary))
      .finally(() => {
        inFlight.delete(task);
        if (lastByVin.get(vinKey) === task) lastByVin.delete(vinKey);
        onRow(++done);
      });
    lastByVin.set(vinKey, task);
    inFlight.add(task);
    if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

async function importRow(deps: VehicleDeps, row: ImportRow, summary: ImportSummary): Promise<void> {
  const { vehicle, attributes } = toInput(row.record);
  const parsedVehicle = vehicleInputSchema.safeParse(vehicle);
  const parsedAttributes = customerAttributesSchema.safeParse(attributes);
  if (!parsedVehicle.success || !parsedAttributes.success) {
    const problems = [
      ...(parsedVehicle.error?.issues ?? []).map((i) => `${i.path.join('.') || 'row'}: ${i.message}`),
      ...(parsedAttributes.error?.issues ?? []).map((i) => `${i.path.join('.') || 'row'}: ${i.message}`),
    ];
    summary.rejected.push({ ...row, problems });
    return;
  }
  const outcome = await upsertVehicle(deps, parsedVehicle.data, 'import');
  if (outcome.status === 'rejected') {
    summary.rejected.push({ ...row, problems: outcome.problems.map((p) => `${p.path.slice(1)}: ${p.message}`) });
    return;
  }
  summary[outcome.status]++;
  if (outcome.linked) summary.linked++;
  if (outcome.customerId && Object.keys(parsedAttributes.data).length > 0) {
    await updateCustomerAttributes(deps, outcome.customerId, parsedAttributes.data);
  }
}
