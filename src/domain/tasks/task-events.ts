import { Types } from 'mongoose';
import type { DomainEvent } from '../events/domain-event.js';
import { CustomerModel } from '../customers/customer.model.js';
import type { TaskDeps } from './task-deps.js';
import { requestNotify } from './task-notify.js';
import { cancelOpenTasks, rehomeOpenTasks } from './task.service.js';
import { closeReachableOwnerTasks, vehiclesOfCustomer } from './vehicle-tasks.js';

/**
 * Follow-up tasks' reaction to domain events (docs/tasks.md), after the rules engine has cancelled or
 * re-homed the schedules: a lost customer's open tasks are cancelled; a transferred customer's
 * open tasks move to the taker (the event's `toUserid`, else the new responsible advisor), who
 * is told at the next working moment. A vehicle linked to a customer, or a customer who added (or
 * re-added) an advisor, closes the open "add this owner on WeCom" tasks of their vehicles once the
 * owner is reachable (docs/outcomes.md). All are idempotent updates on open tasks.
 */
export async function handleTaskDomainEvent(
  deps: TaskDeps,
  event: DomainEvent,
): Promise<{ cancelled?: number; moved?: number; closed?: number }> {
  if (!event.customerId) return {};
  const now = deps.clock.now();
  if (event.type === 'vehicle.linked' || event.type === 'customer.added') {
    const vehicleIds =
      event.type === 'vehicle.linked' && event.vehicleId && Types.ObjectId.isValid(event.vehicleId)
        ? [new Types.ObjectId(event.vehicleId)]
        : await vehiclesOfCustomer(deps.corpId, event.customerId);
    return { closed: await closeReachableOwnerTasks(deps.corpId, vehicleIds, now) };
  }
  if (event.type === 'customer.lost')
    return { cancelled: await cancelOpenTasks(deps.corpId, event.customerId, 'customer_lost', now) };
  if (event.type === 'relationship.transferred') {
    const from = typeof event.data.fromUserid === 'string' ? event.data.fromUserid : event.userid;
    let to = typeof event.data.toUserid === 'string' ? event.data.toUserid : undefined;
    if (!to)
      to =
        (await CustomerModel.findOne({ _id: event.customerId, corpId: deps.corpId }, { responsibleUserid: 1 }).lean())
          ?.responsibleUserid ?? undefined;
    if (!from || !to || from === to) return { moved: 0 };
    const moved = await rehomeOpenTasks(deps, deps.corpId, event.customerId, from, to, now);
    if (moved > 0)
      await requestNotify(
        deps.queues,
        deps.corpId,
        to,
        `transfer-${event.customerId}-${now.getTime()}`,
        0,
        deps.tuning.notifyDebounceMs,
      );
    return { moved };
  }
  return {};
}
