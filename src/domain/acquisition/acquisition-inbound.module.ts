import { WecomApiError } from '../../wecom/errors.js';
import type { HandlerContext, HandlerModule } from '../inbound/handler-registry.js';
import { markContacted } from './lead-actions.js';
import { LEAD_CONTACTED_KEY, parseLeadCardId } from './lead-card.js';
import { LeadModel } from './lead.model.js';
import { requestTeamRefresh } from './team-codes.js';

/**
 * "已联系" on a lead card (docs/acquisition.md "Cards"): records first contact when the clicker
 * holds the lead, then shows the result on the card through the click's response code.
 * Idempotent: a second click or a replayed callback finds the lead already contacted.
 */
export const acquisitionInboundModule: HandlerModule = (registry) => {
  registry.register('template_card_event', async (event, ctx: HandlerContext) => {
    if (event.kind !== 'template_card_event') return;
    const ref = parseLeadCardId(event.taskId);
    const deps = ctx.scope?.tasks(ctx.logger);
    if (!ref || !deps || event.eventKey !== LEAD_CONTACTED_KEY) return;
    const lead = await LeadModel.findOne({ _id: ref.leadId, corpId: deps.corpId }, { advisorUserid: 1 }).lean();
    let text = '线索已转给其他顾问';
    if (lead && lead.advisorUserid === event.fromUserName) {
      const out = await markContacted(
        { ...deps, queues: ctx.queues },
        ref.leadId,
        `wecom:${event.fromUserName}`,
        'card',
      ).catch(() => undefined);
      text = '已联系';
      ctx.logger.info({ corpId: deps.corpId, leadId: ref.leadId, changed: out?.changed ?? false }, 'lead card click');
      if (out?.changed) await requestTeamRefresh(ctx, deps.corpId, event.fromUserName);
    }
    if (!event.responseCode) return;
    await deps.api
      .updateTemplateCard({
        userids: [event.fromUserName],
        response_code: event.responseCode,
        button: { replace_name: text },
      })
      .catch((err: unknown) => {
        if (!(err instanceof WecomApiError && err.errcode === 60140)) throw err;
      });
  });
};
