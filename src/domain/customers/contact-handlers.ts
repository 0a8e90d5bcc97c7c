import type { Redis } from 'ioredis';
import type { ContactEvent, ExternalContactEvent } from '../../wecom/events.js';
import { enqueueWelcome, welcomeJobFor } from '../../queues/welcome.producer.js';
import { syncAdvisor, upsertAdvisor } from './advisor-directory.service.js';
import { refreshCorpTagCache } from './corp-tags.service.js';
import type { CustomerDeps } from './customer-deps.js';
import { refreshCustomerFromWecom } from './customer-refresh.service.js';
import { sendLossAlert, sendTransferFailedAlert } from './loss-alert.js';
import { endRelationship } from './relationship-status.service.js';
import type { RetentionSettings } from './retention-settings.js';

/** Customer handlers' dependencies for one corp and one callback. */
export interface ContactHandlerDeps extends CustomerDeps {
  redis: Redis;
  keyPrefix: string;
  /** The callback's de-duplication key: the source id of every event it causes. */
  sourceId: string;
  receivedAt: Date;
  /** The web process already stored the add's welcome job (HandlerContext.welcomeEnqueued). */
  welcomeEnqueued?: boolean;
  /** The corp's retention settings: an add through a delivery channel makes an owner in its refresh. */
  retention?: RetentionSettings;
}

const eventTime = (event: { createTime: number }, fallback: Date) =>
  event.createTime > 0 ? new Date(event.createTime * 1000) : fallback;

/**
 * `add_external_contact` / `add_half_external_contact` (docs/architecture.md §4): first the welcome job, from the
 * raw event, before any MongoDB or API work; then the refetch that stores customer and
 * relationship and emits `customer.added`.
 */
export async function onCustomerAdded(deps: ContactHandlerDeps, event: ExternalContactEvent): Promise<void> {
  // Normally the web process stored it before the callback's job (src/ingest/welcome-lane.ts), and
  // the job says so: nothing to do. Otherwise (spooled callbacks, replays) this is the fallback;
  // the job id comes from the code, so it never makes a second job.
  if (!deps.welcomeEnqueued) {
    const welcome = welcomeJobFor(deps.corpId, event, deps.receivedAt.getTime());
    if (welcome) await enqueueWelcome(deps.queues, welcome);
  }
  // A half add (免验证, not yet confirmed) is not a relationship the APIs can use yet (84061).
  if (event.changeType === 'add_half_external_contact') return;
  await refreshCustomerFromWecom(deps, {
    externalUserId: event.externalUserId,
    sourceId: deps.sourceId,
    eventAt: eventTime(event, deps.receivedAt),
    addedBy: event.userId,
    retention: deps.retention,
  });
}

/** `edit_external_contact`: refetch; tag changes become `customer.tag_added/removed` events. */
export async function onCustomerEdited(deps: ContactHandlerDeps, event: ExternalContactEvent): Promise<void> {
  await refreshCustomerFromWecom(deps, {
    externalUserId: event.externalUserId,
    sourceId: deps.sourceId,
    eventAt: eventTime(event, deps.receivedAt),
  });
}

/** `del_follow_user`: the customer deleted the advisor; alert advisor and leader inside WeCom. */
export async function onCustomerDeletedAdvisor(deps: ContactHandlerDeps, event: ExternalContactEvent): Promise<void> {
  const result = await endRelationship(deps, {
    externalUserId: event.externalUserId,
    userid: event.userId,
    status: 'deleted_by_customer',
    eventAt: eventTime(event, deps.receivedAt),
    sourceId: deps.sourceId,
    cause: 'del_follow_user',
  });
  if (result.changed)
    await sendLossAlert(deps, { userid: event.userId, externalUserId: event.externalUserId, sourceId: deps.sourceId });
}

/** `del_external_contact`: the advisor deleted the customer, or a transfer moved them (`DELETE_BY_TRANSFER`). */
export async function onAdvisorDeletedCustomer(deps: ContactHandlerDeps, event: ExternalContactEvent): Promise<void> {
  const transferred = event.source === 'DELETE_BY_TRANSFER';
  await endRelationship(deps, {
    externalUserId: event.externalUserId,
    userid: event.userId,
    status: transferred ? 'transferred' : 'deleted_by_advisor',
    eventAt: eventTime(event, deps.receivedAt),
    sourceId: deps.sourceId,
    cause: transferred ? 'del_external_contact:transfer' : 'del_external_contact',
  });
}

/** `transfer_fail`: the customer stays with the original advisor; the leader is told why. */
export async function onTransferFailed(deps: ContactHandlerDeps, event: ExternalContactEvent): Promise<void> {
  await sendTransferFailedAlert(deps, {
    takeoverUserid: event.userId,
    externalUserId: event.externalUserId,
    reason: event.failReason ?? '',
    sourceId: deps.sourceId,
  });
}

/** `change_external_tag`: the corp's tag list changed; refresh the cache. */
export async function onCorpTagsChanged(deps: ContactHandlerDeps): Promise<void> {
  await refreshCorpTagCache(deps);
}

/**
 * `change_contact` member events (contact-sync assistant, reduced payloads): refetch with
 * `user/get`; `delete_user` or status 5 marks the member left and flags their work for transfer.
 */
export async function onMemberChanged(deps: ContactHandlerDeps, event: ContactEvent): Promise<void> {
  const userid = event.newUserId || event.userId;
  if (!userid) return;
  if (event.changeType === 'delete_user' || event.status === 5) {
    await upsertAdvisor(deps, { userid, name: '', department: [], status: 5 });
    return;
  }
  await syncAdvisor(deps, userid);
}
