import type { Types } from 'mongoose';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { CustomerModel } from './customer.model.js';
import type { PersonalData } from './personal-data.js';
import { displayNames, SUMMARY_FIELDS, type SummarySource } from './customer-search.js';

/** A task's customer as the console's task table shows it. */
export interface CustomerLabel {
  /** Empty for a vehicle task whose owner is not on WeCom (no customer record to open). */
  id: string;
  name: string;
  /** The VIN in full for a customer's vehicle; only its last four (`…1234`) for a vehicle task (docs/outcomes.md). */
  vehicle?: { model?: string; vin: string };
}

interface Labelled {
  _id: Types.ObjectId;
  corpId: string;
  customerId?: Types.ObjectId | null;
  vehicleId?: Types.ObjectId | null;
  kind?: string | null;
  advisorUserid: string;
}

const isVehicleTask = (t: Labelled) => t.kind === 'add_on_wecom' && Boolean(t.vehicleId);

/**
 * How a list of tasks names its customers (the console's task table): the display name a card
 * would show (the task advisor's remark, else the WeChat name) and the latest vehicle. Keyed by
 * task id. Decrypted for the answer only, never stored on the task.
 */
export async function customerLabels(pd: PersonalData, tasks: Labelled[]): Promise<Map<string, CustomerLabel>> {
  const labels = new Map<string, CustomerLabel>();
  for (const corpId of new Set(tasks.map((t) => t.corpId))) {
    await labelVehicleTasks(
      corpId,
      tasks.filter((t) => t.corpId === corpId && isVehicleTask(t)),
      labels,
    );
    const own = tasks.filter((t) => t.corpId === corpId && !isVehicleTask(t) && t.customerId);
    const ids = [...new Set(own.map((t) => String(t.customerId)))];
    const [customers, vehicles] = await Promise.all([
      CustomerModel.find({ corpId, _id: { $in: ids } }, SUMMARY_FIELDS).lean() as unknown as Promise<SummarySource[]>,
      VehicleModel.find({ corpId, customerId: { $in: ids } }, { customerId: 1, model: 1, vin: 1 })
        .sort({ deliveryDate: 1 })
        .lean(),
    ]);
    const advisorOf = new Map(own.map((t) => [String(t.customerId), t.advisorUserid]));
    const names = await displayNames(pd, corpId, customers, (c) => advisorOf.get(String(c._id)));
    const vehicleOf = new Map(vehicles.map((v) => [String(v.customerId), { model: v.model ?? undefined, vin: v.vin }]));
    for (const t of own)
      labels.set(String(t._id), {
        id: String(t.customerId),
        name: names.get(String(t.customerId)) ?? '',
        vehicle: vehicleOf.get(String(t.customerId)),
      });
  }
  return labels;
}

/** Vehicle tasks ("add this owner on WeCom"): no customer; the vehicle's model and VIN tail. */
async function labelVehicleTasks(corpId: string, tasks: Labelled[], labels: Map<string, CustomerLabel>) {
  if (tasks.length === 0) return;
  const vehicles = await VehicleModel.find(
    { corpId, _id: { $in: [...new Set(tasks.map((t) => String(t.vehicleId)))] } },
    { model: 1, vin: 1 },
  ).lean();
  const byId = new Map(vehicles.map((v) => [String(v._id), v]));
  for (const t of tasks) {
    const v = byId.get(String(t.vehicleId));
    labels.set(String(t._id), {
      id: '',
      name: '',
      vehicle: v ? { model: v.model ?? undefined, vin: `…${v.vin.slice(-4)}` } : undefined,
    });
  }
}
