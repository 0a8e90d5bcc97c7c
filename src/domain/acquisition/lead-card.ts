import { createHash } from 'node:crypto';
import type { TemplateCard } from '../../wecom/endpoints/messages.js';
import { leadCtx } from '../customers/personal-data.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { ChannelModel } from './channel.model.js';
import type { LeadLean } from './lead.model.js';

export const LEAD_SOURCE_LABEL: Record<string, string> = {
  dcc: '厂家DCC/呼叫中心',
  autohome: '汽车之家',
  dongchedi: '懂车帝',
  yiche: '易车',
  short_video: '短视频',
  walk_in: '到店',
  owner_referral: '老客推荐',
  trade_in: '置换',
};
export const LEAD_CONTACTED_KEY = 'lead_contacted';

/** Card task ids: `ld-<lead>-<assignment>` for the advisor, `-r` a reminder, `lde-…-<leader hash>` a leader's escalation. */
export const leadCardId = (leadId: string, assignment: number, reminder = false): string =>
  `ld-${leadId}-${assignment}${reminder ? '-r' : ''}`;
export const leadEscalationCardId = (leadId: string, assignment: number, leader: string): string =>
  `lde-${leadId}-${assignment}-${createHash('sha1').update(leader).digest('hex').slice(0, 10)}`;

export function parseLeadCardId(taskId: string): { leadId: string; assignment: number } | undefined {
  const m = /^ld-([a-f0-9]{24})-(\d+)(-r)?$/.exec(taskId);
  return m ? { leadId: m[1] as string, assignment: Number(m[2]) } : undefined;
}

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
export const leadPageUrl = (publicBaseUrl: string, leadId: string): string =>
  `${publicBaseUrl}/console/m/leads/${leadId}`;

/** The advisor's personal lead code (a synced `lead` channel), for the card's "send my code". */
export async function leadCodeOf(corpId: string, userid: string): Promise<string | undefined> {
  const channel = await ChannelModel.findOne(
    { corpId, kind: 'lead', advisors: userid, deletedAt: { $exists: false }, qrCode: { $exists: true } },
    { qrCode: 1 },
  ).lean();
  return channel?.qrCode ?? undefined;
}

/**
 * The new-lead card (docs/acquisition.md "Cards"): who, from where, what they want, a tap to call
 * (the lead page's tel: link), the advisor's personal lead code to send, and "已联系".
 */
export async function buildLeadCard(
  deps: Pick<TaskDeps, 'corpId' | 'pd' | 'publicBaseUrl'>,
  lead: LeadLean,
  note?: string,
  /** The advisor's lead code when the caller looked it up already (several cards to one advisor). */
  knownCode?: { code: string | undefined },
): Promise<TemplateCard> {
  const leadId = String(lead._id);
  const name = deps.pd.openFor(leadCtx({ corpId: deps.corpId, leadId }, 'nameEnc'), lead.nameEnc) ?? '未留姓名';
  const mobile = deps.pd.openFor(leadCtx({ corpId: deps.corpId, leadId }, 'mobileEnc'), lead.mobileEnc);
  const url = leadPageUrl(deps.publicBaseUrl, leadId);
  const code = knownCode
    ? knownCode.code
    : lead.advisorUserid
      ? await leadCodeOf(deps.corpId, lead.advisorUserid)
      : undefined;
  return {
    card_type: 'button_interaction',
    task_id: leadCardId(leadId, lead.assignment ?? 1, Boolean(note)),
    source: { desc: note ?? '新线索' },
    main_title: { title: cut(`新线索：${name}`, 26), desc: LEAD_SOURCE_LABEL[lead.source] ?? lead.source },
    horizontal_content_list: [
      ...(lead.model ? [{ keyname: '意向车型', value: cut(lead.model, 20) }] : []),
      ...(lead.budget ? [{ keyname: '预算', value: cut(lead.budget, 20) }] : []),
      ...(lead.preferredTime ? [{ keyname: '方便时间', value: cut(lead.preferredTime, 20) }] : []),
      ...(mobile ? [{ type: 1, keyname: '电话', value: `${mobile}（点此拨打）`, url }] : []),
      ...(code ? [{ type: 1, keyname: '我的线索码', value: '发给客户加微', url: code }] : []),
    ],
    card_action: { type: 1, url },
    button_list: [
      { text: '已联系', style: 1, key: LEAD_CONTACTED_KEY },
      { type: 1, text: '打开线索', style: 2, url },
    ],
  };
}

/**
 * A leader's card when a lead is still uncontacted after the SLA plus the escalation time. One
 * card per leader (each paced in their own window, lead-card-pacing.ts), so the task id names the
 * leader too (WeCom refuses a repeated task_id; a userid may hold characters a task_id may not).
 */
export function escalationCard(deps: Pick<TaskDeps, 'publicBaseUrl'>, lead: LeadLean, leader: string): TemplateCard {
  const url = leadPageUrl(deps.publicBaseUrl, String(lead._id));
  return {
    card_type: 'text_notice',
    task_id: leadEscalationCardId(String(lead._id), lead.assignment ?? 1, leader),
    source: { desc: '线索超时未联系' },
    main_title: {
      title: cut(`${lead.advisorUserid ?? ''} 的线索超时未联系`, 26),
      desc: LEAD_SOURCE_LABEL[lead.source] ?? lead.source,
    },
    card_action: { type: 1, url },
  };
}
