import { METRIC_KEYS, type MetricDefinition, type MetricKey } from './kpi-types.js';

/**
 * Every cockpit metric, with the exact definition shown on hover (docs/cockpit.md). Days are the corp's
 * local calendar days (its `timezone`, default Asia/Shanghai); each metric is counted on the day
 * of the one date field named here, and attributed to the advisor named here. How each is
 * computed is in rollup.service.ts (one function per source) and docs/cockpit.md.
 */
const DEFINITIONS: readonly MetricDefinition[] = [
  {
    key: 'tasks_due',
    group: 'followup',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '应跟进任务', en: 'Tasks due' },
    definition: {
      zh: '到期时间（dueAt）落在该本地日的跟进任务数，不含已取消任务；归属任务当前的负责顾问。',
      en: "Follow-up tasks whose due time (dueAt) falls on the local day, cancelled tasks excluded; counted for the task's current advisor.",
    },
  },
  {
    key: 'tasks_done_on_time',
    group: 'followup',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '按时完成', en: 'Done on time' },
    definition: {
      zh: '应跟进任务中已完成且完成时间 ≤ 到期时间 + SLA 的任务数（恰好等于也算按时）。',
      en: 'Tasks due that are done with completedAt ≤ dueAt + SLA (exactly at the limit counts as on time).',
    },
  },
  {
    key: 'tasks_done_late',
    group: 'followup',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '超时完成', en: 'Done late' },
    definition: {
      zh: '应跟进任务中已完成但完成时间晚于到期时间 + SLA 的任务数。',
      en: 'Tasks due that are done, but after dueAt + SLA.',
    },
  },
  {
    key: 'tasks_overdue',
    group: 'followup',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '仍逾期', en: 'Still overdue' },
    definition: {
      zh: '应跟进任务中，在统计时点仍未完成（未完成/未标记联系不上）且已超过到期时间 + SLA 的任务数。统计时点 = 现在，但最多为该日结束后 31 天（之后数值冻结）。',
      en: 'Tasks due that, at the as-of instant, are still open (not done, not marked unreachable) and past dueAt + SLA. As-of = now, but at most 31 days after the end of the due day (then the value is frozen).',
    },
  },
  {
    key: 'tasks_escalated',
    group: 'followup',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '已升级', en: 'Escalated' },
    definition: {
      zh: '应跟进任务中升级到主管（升级级别 ≥ 2）的任务数。',
      en: 'Tasks due that reached the manager (escalation level ≥ 2).',
    },
  },
  {
    key: 'tasks_reassigned',
    group: 'followup',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '被转派', en: 'Reassigned' },
    definition: {
      zh: '应跟进任务中被主管转派过（历史中有 reassigned 记录）的任务数，计入转派后的顾问。',
      en: 'Tasks due that a manager reassigned at least once (a `reassigned` history entry); counted for the advisor who holds them now.',
    },
  },
  {
    key: 'on_time_rate',
    group: 'followup',
    kind: 'rate',
    higherIsBetter: true,
    label: { zh: '按时完成率', en: 'On-time rate' },
    definition: {
      zh: '按时完成数 ÷ 已见分晓的应跟进任务数（统计时点已完成/联系不上，或已过到期时间 + SLA）。尚未到期限的任务不计入分母。',
      en: 'Done on time ÷ tasks due whose result is known at the as-of instant (closed, or past dueAt + SLA). Tasks still within their SLA are not in the denominator.',
    },
  },
  {
    key: 'median_due_to_done_ms',
    group: 'followup',
    kind: 'duration_ms',
    higherIsBetter: false,
    label: { zh: '到期至完成中位时长', en: 'Median due → done' },
    definition: {
      zh: '已完成任务从到期时间到完成时间的中位时长（提前完成记为 0）。由日汇总的对数分桶直方图合并得出，误差 ≤ ±9%。',
      en: 'Median of completedAt − dueAt over done tasks (done early counts as 0). Merged from daily log-scale histograms; within ±9 %.',
    },
  },
  {
    key: 'new_owners',
    group: 'care',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '新增保客', en: 'New owners' },
    definition: {
      zh: '生命周期在该本地日变为「车主」（lifecycleHistory 中 stage=owner 的时间）的客户数；归属客户当前的负责顾问。',
      en: "Customers whose lifecycle became owner on the local day (the `owner` entry of lifecycleHistory); counted for the customer's responsible advisor.",
    },
  },
  {
    key: 'delivery_care_within_sla_rate',
    group: 'care',
    kind: 'rate',
    higherIsBetter: true,
    label: { zh: '交车关怀按时率', en: 'Delivery care within SLA' },
    definition: {
      zh: '当日新增保客中，有交车关怀任务（由交车日期或成为车主/关联车辆触发的规则创建）按时完成（≤ 到期 + SLA）的客户占比。',
      en: "Share of the day's new owners with a delivery-care task (from a rule on the delivery date, on becoming an owner or on a linked vehicle) done within its SLA.",
    },
  },
  {
    key: 'invitations_sent',
    group: 'care',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '邀约已联系', en: 'Invitations sent' },
    definition: {
      zh: '保养/续保邀约任务（规则按上次保养日期或保险到期日触发）中，到期日在该日且顾问已完成联系的任务数。',
      en: 'Maintenance or insurance invitation tasks (rules on the last service date or the insurance expiry) due on the day that the advisor completed.',
    },
  },
  {
    key: 'invitations_booked',
    group: 'care',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '邀约已预约', en: 'Invitations booked' },
    definition: {
      zh: '上述邀约中顾问记录结果为「已预约到店」的任务数。',
      en: 'Of those, completed with the outcome appointment booked.',
    },
  },
  {
    key: 'invitations_declined',
    group: 'care',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '邀约被婉拒', en: 'Invitations declined' },
    definition: {
      zh: '上述邀约中顾问记录结果为「客户婉拒」的任务数。',
      en: 'Of those, completed with the outcome customer declined.',
    },
  },
  {
    key: 'invitations_unreachable',
    group: 'care',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '邀约联系不上', en: 'Invitations unreachable' },
    definition: {
      zh: '到期日在该日、被顾问标记「联系不上」的保养/续保邀约任务数。',
      en: 'Invitation tasks due on the day that the advisor marked unreachable.',
    },
  },
  {
    key: 'customers_added',
    group: 'relationship',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '新增客户', en: 'Customers added' },
    definition: {
      zh: '添加时间（关系的 addedAt）在该日的顾问—客户关系数，按渠道（state）细分；归属添加的顾问。',
      en: 'Advisor–customer relationships added (relationship addedAt) on the day, broken down by channel state; counted for that advisor.',
    },
  },
  {
    key: 'customers_lost',
    group: 'relationship',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '客户流失', en: 'Customers lost' },
    definition: {
      zh: '在该日被客户删除（关系状态 deleted_by_customer，statusChangedAt 在该日）的关系数。',
      en: 'Relationships the customer deleted on the day (status deleted_by_customer, statusChangedAt on the day).',
    },
  },
  {
    key: 'loss_rate_30d',
    group: 'relationship',
    kind: 'rate',
    higherIsBetter: false,
    label: { zh: '30 天流失率', en: 'Loss rate within 30 days' },
    definition: {
      zh: '当日新增的关系中，在添加后 30 天内被客户删除的占比（按添加日归集，30 天后数值稳定）。',
      en: 'Of the relationships added on the day, the share the customer deleted within 30 days of adding (by adding day; final after 30 days).',
    },
  },
  {
    key: 'welcomes_sent',
    group: 'relationship',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '欢迎语已发送', en: 'Welcomes sent' },
    definition: {
      zh: '当日创建的欢迎语规则执行中，欢迎语发送成功的次数；归属被添加的顾问。',
      en: 'Welcome rule executions created on the day whose welcome message was sent; counted for the advisor who was added.',
    },
  },
  {
    key: 'welcomes_failed',
    group: 'relationship',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '欢迎语失败', en: 'Welcomes failed' },
    definition: {
      zh: '当日创建的欢迎语规则执行中，欢迎语被企业微信拒绝或发送失败的次数。',
      en: 'Welcome rule executions created on the day whose welcome message WeCom refused or that failed.',
    },
  },
  {
    key: 'messages_planned',
    group: 'messaging',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '计划客户消息', en: 'Messages planned' },
    definition: {
      zh: '当日（创建时间）由规则排入顾问群发的客户消息数（因他人退订而重排的不重复计）；归属发送顾问。',
      en: "Customer messages the rules queued for an advisor's confirmation, by creation day (a message re-queued after another recipient opted out counts once); counted for the sender.",
    },
  },
  {
    key: 'messages_confirmed',
    group: 'messaging',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '顾问已确认', en: 'Confirmed by advisors' },
    definition: {
      zh: '上述消息中，企业微信发送结果显示顾问已确认发送（状态 1 已发送、2 非好友、3 超额）的条数。',
      en: "Of those, messages WeCom's send results show the advisor confirmed (status 1 sent, 2 not a friend, 3 over quota).",
    },
  },
  {
    key: 'messages_sent',
    group: 'messaging',
    kind: 'count',
    higherIsBetter: true,
    label: { zh: '客户消息已送达', en: 'Customer messages delivered' },
    definition: {
      zh: '规则排入顾问群发的客户消息中，企业微信报告已送达客户（状态 1）的条数；欢迎语另计（已发送欢迎语）。',
      en: 'Of the customer messages the rules queued for advisors, those WeCom reports delivered (status 1); welcomes are counted separately (welcomes sent).',
    },
  },
  {
    key: 'messages_blocked_cap',
    group: 'messaging',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '频控拦截', en: 'Blocked by cap' },
    definition: {
      zh: '当日规则执行中因每月频次上限未发送的客户消息数；归属客户的负责顾问。',
      en: "Customer messages the rules did not send on the day because of the monthly cap (rule executions created on the day); counted for the customer's responsible advisor.",
    },
  },
  {
    key: 'messages_blocked_opt_out',
    group: 'messaging',
    kind: 'count',
    higherIsBetter: false,
    label: { zh: '退订拦截', en: 'Blocked by opt-out' },
    definition: {
      zh: '因客户已退订而未发送的客户消息数：当日规则执行中被退订拦截的，加上当日排入后因退订取消的。',
      en: 'Customer messages not sent because the customer opted out: skipped by rule executions created on the day, plus messages queued on the day and cancelled for an opt-out.',
    },
  },
];

export const METRIC_DEFINITIONS: Readonly<Record<MetricKey, MetricDefinition>> = Object.freeze(
  Object.fromEntries(DEFINITIONS.map((d) => [d.key, d])) as Record<MetricKey, MetricDefinition>,
);

/** The definitions in METRIC_KEYS order (what `GET /api/v1/kpis/definitions` returns). */
export function metricDefinitions(): MetricDefinition[] {
  return METRIC_KEYS.map((k) => METRIC_DEFINITIONS[k]);
}
