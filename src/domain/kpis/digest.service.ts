import { AdvisorModel } from '../customers/advisor.model.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import { KpiDigestModel } from './kpi-digest.model.js';
import type { AnomalyFlag } from './kpi-types.js';
import { weeklyAnomalies } from './overview.service.js';

/** At most this many anomalies per digest (the worst first). */
export const DIGEST_MAX_FLAGS = 5;

export interface DigestDeps {
  corpId: string;
  api: Pick<CorpApi, 'sendMessage'>;
  /** Console links open `${publicBaseUrl}/console/...`. */
  publicBaseUrl: string;
  now: () => Date;
}

/** The console link of a flag's drill-down. */
export function consoleLink(publicBaseUrl: string, flag: AnomalyFlag): string {
  return `${publicBaseUrl}/console${flag.drillDown.path}?${new URLSearchParams(flag.drillDown.query).toString()}`;
}

/** The markdown app message (docs/wecom.md §3.12 markdown): one line per anomaly with its explanation and a link. */
export function digestMarkdown(week: string, flags: readonly AnomalyFlag[], publicBaseUrl: string): string {
  return [
    `**客户经营周报：本周异常（${week} 起）**`,
    ...flags.map((f, i) => `> ${i + 1}. ${f.explanation.zh} [查看明细](${consoleLink(publicBaseUrl, f)})`),
    '<font color="comment">按顾问自身近 8 周和同店顾问对比得出；口径见驾驶舱指标说明。</font>',
  ].join('\n');
}

/**
 * The weekly digest of one corp (docs/cockpit.md): each manager (a member leading departments) gets the
 * top anomalies of the advisors in the departments they lead for `week`, or nothing when there
 * are none. A `kpi_digests` record (unique per corp, week, manager) is claimed before sending
 * and marked sent after, so a retried job sends nobody twice; a claim left `sending` by a crash
 * is retried with WeCom's duplicate check on, which drops an identical repeat.
 */
export async function sendWeeklyDigests(
  deps: DigestDeps,
  week: string,
): Promise<{ sent: number; none: number; already: number }> {
  const members = await AdvisorModel.find(
    { corpId: deps.corpId, status: 'active' },
    { userid: 1, departments: 1, leadsDepartments: 1 },
  ).lean();
  const managers = members.filter((m) => m.leadsDepartments.length > 0);
  const out = { sent: 0, none: 0, already: 0 };
  if (managers.length === 0) return out;
  const { flags } = await weeklyAnomalies({
    corpIds: [deps.corpId],
    week,
    results: { now: deps.now(), withCustomerIds: false },
  });
  const advisorFlags = flags.filter((f) => f.unit.kind === 'advisor');
  for (const m of managers) {
    const team = new Set(
      members
        .filter((a) => a.departments.some((d) => m.leadsDepartments.includes(d)))
        .map((a) => `${deps.corpId}:${a.userid}`),
    );
    const mine = advisorFlags.filter((f) => team.has(f.unit.id)).slice(0, DIGEST_MAX_FLAGS);
    if (mine.length === 0) {
      out.none++;
      continue;
    }
    const key = { corpId: deps.corpId, week, userid: m.userid };
    const prior = await KpiDigestModel.findOne(key, { status: 1 }).lean();
    if (prior?.status === 'sent') {
      out.already++;
      continue;
    }
    if (!prior) {
      try {
        await KpiDigestModel.create({ ...key, status: 'sending', flags: mine.length });
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
        out.already++; // another run claimed it meanwhile
        continue;
      }
    }
    await deps.api.sendMessage({
      touser: m.userid,
      msgtype: 'markdown',
      markdown: { content: digestMarkdown(week, mine, deps.publicBaseUrl) },
      enable_duplicate_check: 1,
      duplicate_check_interval: 14_400,
    });
    await KpiDigestModel.updateOne(key, { $set: { status: 'sent', sentAt: deps.now() } });
    out.sent++;
  }
  return out;
}
