import type { Types } from 'mongoose';
import { LeadModel } from '../acquisition/lead.model.js';
import { OutcomeModel } from '../outcomes/outcome.model.js';

/** One line of the sidebar's "last touches" list: ids, codes and dates, no message text. */
export interface SidebarTouch {
  kind: string;
  at: Date;
  /** A code the page translates (`message.sent`, `task.done` ...). */
  what: string;
  /** The result code, when there is one (`appointment_booked`, `failed` ...). */
  result?: string;
  /** Who did it (a WeCom userid), when known. */
  by?: string;
}

/**
 * The results beside the touches (docs/console.md, "Advisor sidebar"): the customer's DMS outcomes
 * (appointments, repair orders, policies, sales; type and date, no amounts) and their leads (source
 * and stage), newest first.
 */
export async function loadResultTouches(
  corpId: string,
  customerId: Types.ObjectId,
  limit: number,
): Promise<SidebarTouch[]> {
  const [outcomes, leads] = await Promise.all([
    OutcomeModel.find({ corpId, customerId }, { type: 1, roType: 1, status: 1, occurredAt: 1 })
      .sort({ occurredAt: -1 })
      .limit(limit)
      .lean(),
    LeadModel.find({ corpId, customerId }, { source: 1, stage: 1, advisorUserid: 1, updatedAt: 1, createdAt: 1 })
      .sort({ createdAt: -1 })
      .limit(limit)
      .lean(),
  ]);
  return [
    ...outcomes.map((o) => ({
      kind: 'outcome',
      at: o.occurredAt,
      what: `outcome.${o.type === 'repair_order' && o.roType ? o.roType : o.type}`,
      result: o.status === 'cancelled' ? 'cancelled' : undefined,
    })),
    ...leads.map((l) => ({
      kind: 'lead',
      at: (l.updatedAt ?? l.createdAt) as Date,
      what: `lead.${l.source}`,
      result: `lead_${l.stage}`,
      by: l.advisorUserid ?? undefined,
    })),
  ];
}
