import type { ContactEvent, ExternalContactEvent, TypedEvent } from '../../wecom/events.js';
import type { HandlerContext, HandlerModule } from '../inbound/handler-registry.js';
import {
  onAdvisorDeletedCustomer,
  onCorpTagsChanged,
  onCustomerAdded,
  onCustomerDeletedAdvisor,
  onCustomerEdited,
  onMemberChanged,
  onTransferFailed,
  type ContactHandlerDeps,
} from './contact-handlers.js';
import { defaultRetentionSettings } from './retention-settings.js';

/** Builds the per-callback dependencies: the corp-bound WeCom API and the callback's ids. */
function depsFor(ctx: HandlerContext): ContactHandlerDeps | undefined {
  if (!ctx.scope) return undefined; // the car maker's corp has no customers
  return {
    ...ctx.scope.customers(ctx.logger),
    redis: ctx.redis,
    keyPrefix: ctx.config.redis.queuePrefix,
    sourceId: ctx.dedupKey,
    receivedAt: ctx.receivedAt,
    welcomeEnqueued: ctx.welcomeEnqueued,
    retention: ctx.scope.corp.retention ?? defaultRetentionSettings,
  };
}

function contact(handler: (deps: ContactHandlerDeps, event: ExternalContactEvent) => Promise<void>) {
  return async (event: TypedEvent, ctx: HandlerContext) => {
    const deps = depsFor(ctx);
    if (deps && event.kind === 'change_external_contact') await handler(deps, event);
  };
}

function member(handler: (deps: ContactHandlerDeps, event: ContactEvent) => Promise<void>) {
  return async (event: TypedEvent, ctx: HandlerContext) => {
    const deps = depsFor(ctx);
    if (deps && event.kind === 'change_contact') await handler(deps, event);
  };
}

/** The customer features' inbound handlers (docs/architecture.md §4 table). */
export const customerInboundModule: HandlerModule = (registry) => {
  registry
    .register('change_external_contact.add_external_contact', contact(onCustomerAdded))
    .register('change_external_contact.add_half_external_contact', contact(onCustomerAdded))
    .register('change_external_contact.edit_external_contact', contact(onCustomerEdited))
    .register('change_external_contact.del_follow_user', contact(onCustomerDeletedAdvisor))
    .register('change_external_contact.del_external_contact', contact(onAdvisorDeletedCustomer))
    .register('change_external_contact.transfer_fail', contact(onTransferFailed))
    .register('change_external_tag', async (_event, ctx) => {
      const deps = depsFor(ctx);
      if (deps) await onCorpTagsChanged(deps);
    })
    .register('change_contact.create_user', member(onMemberChanged))
    .register('change_contact.update_user', member(onMemberChanged))
    .register('change_contact.delete_user', member(onMemberChanged));
};
