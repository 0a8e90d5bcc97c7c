import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { CustomerModel } from '../customers/customer.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { ChannelAddModel, ChannelModel } from './channel.model.js';
import { LeadModel } from './lead.model.js';

export interface PeriodFilter {
  from?: string;
  to?: string;
}

function atFilter(p: PeriodFilter, field: string): Record<string, unknown> {
  const range: Record<string, Date> = {};
  if (p.from) range.$gte = dayjs.utc(p.from).toDate();
  if (p.to) range.$lt = dayjs.utc(p.to).add(1, 'day').toDate();
  return Object.keys(range).length ? { [field]: range } : {};
}

export interface ChannelKpiRow {
  channelId: string;
  name: string;
  kind: string;
  campaign: string | null;
  /** Scans that became adds (WeCom reports no scan without an add). */
  adds: number;
  welcomes: number;
  owners: number;
  leadsConverted: number;
  cost: number | null;
  costPerAdd: number | null;
}

/**
 * Channel KPIs for the cockpit (docs/acquisition.md "KPIs"): per channel the adds through its code,
 * welcomes sent to them, how many became owners, leads converted, cost per add; and the adds whose
 * state no channel knows ("unknown channel"), listed by state.
 */
export async function channelKpis(
  corpId: string,
  period: PeriodFilter = {},
): Promise<{ channels: ChannelKpiRow[]; unknown: { adds: number; states: Array<{ state: string; adds: number }> } }> {
  const channels = await ChannelModel.find({ corpId }).lean();
  const adds = await ChannelAddModel.find(
    { corpId, ...atFilter(period, 'at') },
    { channelId: 1, state: 1, externalUserId: 1, userid: 1, customerId: 1 },
  ).lean();
  const byChannel = new Map<string, typeof adds>();
  const unknownStates = new Map<string, number>();
  for (const a of adds) {
    if (!a.channelId) {
      unknownStates.set(a.state, (unknownStates.get(a.state) ?? 0) + 1);
      continue;
    }
    const key = String(a.channelId);
    byChannel.set(key, [...(byChannel.get(key) ?? []), a]);
  }
  const customerIds = adds.map((a) => a.customerId).filter((id): id is Types.ObjectId => Boolean(id));
  const owners = new Set(
    (
      await CustomerModel.find({ corpId, _id: { $in: customerIds }, 'lifecycle.stage': 'owner' }, { _id: 1 }).lean()
    ).map((c) => String(c._id)),
  );
  const won = new Set(
    (await LeadModel.find({ corpId, customerId: { $in: customerIds }, outcome: 'won' }, { customerId: 1 }).lean()).map(
      (l) => String(l.customerId),
    ),
  );
  const welcomeRows = await ExecutionModel.find(
    { corpId, subject: { $in: adds.map((a) => `ext:${a.externalUserId}`) } },
    { subject: 1, occurrenceId: 1, actions: 1 },
  ).lean();
  const welcomed = new Set(
    welcomeRows
      .filter((e) => e.actions.some((x) => x.type === 'welcome' && x.status === 'done'))
      .map((e) => `${e.subject.slice(4)}|${e.occurrenceId.replace(/^add:/, '')}`),
  );
  const rows = channels.map((c): ChannelKpiRow => {
    const mine = byChannel.get(String(c._id)) ?? [];
    const n = mine.length;
    return {
      channelId: String(c._id),
      name: c.name,
      kind: c.kind,
      campaign: c.campaign ?? null,
      adds: n,
      welcomes: mine.filter((a) => welcomed.has(`${a.externalUserId}|${a.userid}`)).length,
      owners: new Set(
        mine.filter((a) => a.customerId && owners.has(String(a.customerId))).map((a) => String(a.customerId)),
      ).size,
      leadsConverted: new Set(
        mine.filter((a) => a.customerId && won.has(String(a.customerId))).map((a) => String(a.customerId)),
      ).size,
      cost: c.cost ?? null,
      costPerAdd: c.cost !== undefined && c.cost !== null && n > 0 ? Math.round((c.cost / n) * 100) / 100 : null,
    };
  });
  const states = [...unknownStates].map(([state, n]) => ({ state, adds: n })).sort((a, b) => b.adds - a.adds);
  return { channels: rows, unknown: { adds: states.reduce((s, x) => s + x.adds, 0), states } };
}
