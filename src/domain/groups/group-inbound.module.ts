import type { TypedEvent } from '../../wecom/events.js';
import type { HandlerContext, HandlerModule } from '../inbound/handler-registry.js';
import { refreshGroup } from './group-refresh.service.js';

/**
 * `change_external_chat` (create, update of every kind, dismiss): refetch the group with
 * `groupchat/get` (docs/wecom.md §11.4). The member versions in the event are not trusted for a
 * delta: a refetch is always right and costs one call per event.
 */
export async function onGroupChanged(event: TypedEvent, ctx: HandlerContext): Promise<void> {
  const corp = ctx.corp;
  if (!corp || corp.kind === 'oem' || event.kind !== 'change_external_chat' || !event.chatId) return;
  const api = ctx.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId });
  const eventAt = event.createTime > 0 ? new Date(event.createTime * 1000) : ctx.receivedAt;
  const result = await refreshGroup({ corpId: corp.corpId, api, clock: ctx.clock, logger: ctx.logger }, event.chatId, {
    eventAt,
  });
  ctx.logger.debug(
    { corpId: corp.corpId, type: event.key, status: result.status, joined: result.joined, quit: result.quit },
    'customer group refreshed',
  );
}

/** The customer groups' inbound handlers. */
export const groupInboundModule: HandlerModule = (registry) => {
  registry.register('change_external_chat', onGroupChanged);
};
