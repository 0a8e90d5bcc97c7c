import { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import type { TemplateCard } from '../../wecom/endpoints/messages.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { customerCtx, relationshipCtx } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import type { TaskDeps } from './task-deps.js';
import type { TaskLean, TaskOutcome } from './task.model.js';

/** Card button keys (docs/wecom.md §3.12: ≤ 6 buttons, keys unique per card). */
export const BUTTON = {
  contacted: 'done:contacted',
  appointment: 'done:appointment_booked',
  declined: 'done:customer_declined',
  snooze: 'snooze:1d',
  unreachable: 'unreachable',
  reassign: 'reassign',
} as const;

export const OUTCOME_LABEL: Record<TaskOutcome, string> = {
  contacted: '已联系',
  appointment_booked: '已预约到店',
  customer_declined: '客户婉拒',
};

/**
 * WeCom `task_id`s are unique per app and never reusable (docs/wecom.md §3.12), so each card gets its
 * own: `tk-<task>-<seq>` for the advisor's cards, `te-<task>-<level>` for a leader's escalation.
 * Deterministic, so a send retried after a crash reuses the id and cannot send a second card.
 */
export const advisorCardId = (taskId: string, seq: number): string => `tk-${taskId}-${seq}`;
export const leaderCardId = (taskId: string, level: number): string => `te-${taskId}-${level}`;

export function parseCardId(wecomTaskId: string): { taskId: string; kind: 'advisor' | 'leader' } | undefined {
  const m = /^(tk|te)-([a-f0-9]{24})-\d+$/.exec(wecomTaskId);
  if (!m?.[2]) return undefined;
  return { taskId: m[2], kind: m[1] === 'te' ? 'leader' : 'advisor' };
}

/** What a card shows, rendered at send time from the customer's records (never stored on the task). */
export interface TaskView {
  /** What the card calls the customer: the advisor's remark, else their WeCom name. */
  customer: string;
  /** Both, for the task page (docs/tasks.md): the WeCom name and the advisor's remark. */
  customerName?: string;
  remark?: string;
  /** The customer's external_userid, for the task page's "open the chat" (docs/console.md, "Advisor sidebar"). */
  externalUserId?: string;
  model?: string;
  advisorName: string;
  due: string;
  talkTrack?: string;
  /** `add_on_wecom` tasks: the vehicle the task is about, its VIN shown by its last four only (docs/data-inventory.md). */
  vehicle?: { model?: string; vinTail: string };
}

/** A VIN as cards, pages and lists of vehicle tasks show it: `…` and its last four characters, never the whole VIN. */
export const vinTail = (vin: string): string => `…${vin.slice(-4)}`;

/** What a card calls a vehicle whose owner is not on WeCom: "<model> · VIN …1234". */
export const vehicleLabel = (v: { model?: string | null; vin: string }): string =>
  `${v.model ? `${v.model} · ` : ''}VIN ${vinTail(v.vin)}`;

/**
 * The talk-track variables and their spellings: `customer` holds a personal value (a name),
 * `model` and `advisor` do not. The one list every renderer of customer-facing text uses.
 */
export const TALK_TRACK_VARIABLES = {
  customer: /\{(客户|name|customer)\}/g,
  model: /\{(车型|model)\}/g,
  advisor: /\{(顾问|advisor)\}/g,
} as const;
export type TalkTrackVariable = keyof typeof TALK_TRACK_VARIABLES;

/** The talk-track variables a template uses. */
export const talkTrackVariablesIn = (template: string): TalkTrackVariable[] =>
  (Object.keys(TALK_TRACK_VARIABLES) as TalkTrackVariable[]).filter((k) =>
    new RegExp(TALK_TRACK_VARIABLES[k].source).test(template),
  );

/** What `{车型}` becomes when the customer has no vehicle model on record. */
export const MODEL_FALLBACK = '您的爱车';

/** Fills `{客户}`/`{name}`, `{车型}`/`{model}`, `{顾问}`/`{advisor}` in a talk track template. */
export function renderTalkTrack(
  template: string | undefined | null,
  vars: { customer: string; model?: string; advisorName: string },
): string | undefined {
  if (!template) return undefined;
  return template
    .replace(TALK_TRACK_VARIABLES.customer, vars.customer)
    .replace(TALK_TRACK_VARIABLES.model, vars.model ?? MODEL_FALLBACK)
    .replace(TALK_TRACK_VARIABLES.advisor, vars.advisorName);
}

/**
 * What a card, digest line or task page shows of a task, rendered at send time. A task on a
 * vehicle whose owner is not reachable on WeCom (`add_on_wecom`, docs/outcomes.md) names the
 * vehicle instead of a customer: model and the VIN's last four.
 */
export async function loadTaskView(
  deps: Pick<TaskDeps, 'corpId' | 'pd' | 'timeZone'>,
  task: Pick<TaskLean, 'customerId' | 'advisorUserid' | 'dueAt' | 'talkTrack'> &
    Partial<Pick<TaskLean, 'vehicleId' | 'kind'>>,
): Promise<TaskView> {
  if (task.kind === 'add_on_wecom' && task.vehicleId) return loadVehicleTaskView(deps, task);
  if (task.kind === 'broadcast_confirm') return loadBroadcastTaskView(deps, task);
  const [customer, vehicle, advisor] = await Promise.all([
    CustomerModel.findOne({ _id: task.customerId, corpId: deps.corpId }, { externalUserId: 1, nameEnc: 1 }).lean(),
    VehicleModel.findOne({ corpId: deps.corpId, customerId: task.customerId, model: { $exists: true } }, { model: 1 })
      .sort({ deliveryDate: -1 })
      .lean(),
    AdvisorModel.findOne({ corpId: deps.corpId, userid: task.advisorUserid }, { name: 1 }).lean(),
  ]);
  const rel = customer
    ? await RelationshipModel.findOne(
        { corpId: deps.corpId, userid: task.advisorUserid, externalUserId: customer.externalUserId },
        { remarkEnc: 1 },
      ).lean()
    : null;
  return customerTaskView(deps, task, customer, vehicle, advisor, rel);
}

type ViewTask = Pick<TaskLean, '_id' | 'customerId' | 'advisorUserid' | 'dueAt' | 'talkTrack'> &
  Partial<Pick<TaskLean, 'vehicleId' | 'kind'>>;

/**
 * The views of many tasks (a delivery's cards, a digest's lines) with four reads for all of them
 * instead of four per task: customers, their vehicles with a model, the advisors and the
 * relationships, each one `$in` query (docs/scale.md §4). Tasks of other kinds are loaded one by
 * one (`loadTaskView`). Keyed by task id; the same views `loadTaskView` gives.
 */
export async function loadTaskViews(
  deps: Pick<TaskDeps, 'corpId' | 'pd' | 'timeZone'>,
  tasks: readonly ViewTask[],
): Promise<Map<string, TaskView>> {
  const views = new Map<string, TaskView>();
  const plain = tasks.filter((t) => t.customerId && t.kind !== 'add_on_wecom' && t.kind !== 'broadcast_confirm');
  for (const t of tasks) if (!plain.includes(t)) views.set(String(t._id), await loadTaskView(deps, t));
  if (plain.length === 0) return views;
  const customerIds = [...new Set(plain.map((t) => String(t.customerId)))].map((id) => new Types.ObjectId(id));
  const userids = [...new Set(plain.map((t) => t.advisorUserid))];
  const [customers, vehicles, advisors] = await Promise.all([
    CustomerModel.find({ _id: { $in: customerIds }, corpId: deps.corpId }, { externalUserId: 1, nameEnc: 1 }).lean(),
    VehicleModel.find(
      { corpId: deps.corpId, customerId: { $in: customerIds }, model: { $exists: true } },
      { model: 1, customerId: 1 },
    )
      .sort({ deliveryDate: -1 })
      .lean(),
    AdvisorModel.find({ corpId: deps.corpId, userid: { $in: userids } }, { userid: 1, name: 1 }).lean(),
  ]);
  const customerById = new Map(customers.map((c) => [String(c._id), c]));
  // Sorted by delivery date, newest first: the first vehicle of a customer is the one a single view reads.
  const vehicleOf = new Map<string, (typeof vehicles)[number]>();
  for (const v of vehicles) if (!vehicleOf.has(String(v.customerId))) vehicleOf.set(String(v.customerId), v);
  const advisorOf = new Map(advisors.map((a) => [a.userid, a]));
  const externalUserIds = [...new Set(customers.map((c) => c.externalUserId))];
  const rels =
    externalUserIds.length > 0
      ? await RelationshipModel.find(
          { corpId: deps.corpId, userid: { $in: userids }, externalUserId: { $in: externalUserIds } },
          { userid: 1, externalUserId: 1, remarkEnc: 1 },
        ).lean()
      : [];
  const relOf = new Map(rels.map((r) => [`${r.userid}\u0000${r.externalUserId}`, r]));
  for (const t of plain) {
    const customer = customerById.get(String(t.customerId)) ?? null;
    const rel = customer ? (relOf.get(`${t.advisorUserid}\u0000${customer.externalUserId}`) ?? null) : null;
    views.set(
      String(t._id),
      customerTaskView(
        deps,
        t,
        customer,
        vehicleOf.get(String(t.customerId)) ?? null,
        advisorOf.get(t.advisorUserid) ?? null,
        rel,
      ),
    );
  }
  return views;
}

/** A customer task's view from its records (read one by one or together). */
function customerTaskView(
  deps: Pick<TaskDeps, 'corpId' | 'pd' | 'timeZone'>,
  task: Pick<TaskLean, 'advisorUserid' | 'dueAt' | 'talkTrack'>,
  customer: { externalUserId: string; nameEnc?: string | null } | null,
  vehicle: { model?: string | null } | null,
  advisor: { name?: string | null } | null,
  rel: { remarkEnc?: string | null } | null,
): TaskView {
  const remark =
    (customer &&
      deps.pd.openFor(
        relationshipCtx(
          { corpId: deps.corpId, externalUserId: customer.externalUserId, userid: task.advisorUserid },
          'remarkEnc',
        ),
        rel?.remarkEnc,
      )) ||
    undefined;
  const customerName =
    (customer &&
      deps.pd.openFor(
        customerCtx({ corpId: deps.corpId, externalUserId: customer.externalUserId }, 'nameEnc'),
        customer.nameEnc,
      )) ||
    undefined;
  const name = remark ?? customerName ?? '一位客户';
  const advisorName = advisor?.name || task.advisorUserid;
  const model = vehicle?.model ?? undefined;
  return {
    customer: name,
    customerName,
    remark,
    externalUserId: customer?.externalUserId,
    model,
    advisorName,
    due: dayjs.utc(task.dueAt).tz(deps.timeZone).format('MM-DD HH:mm'),
    talkTrack: renderTalkTrack(task.talkTrack, { customer: name, model, advisorName }),
  };
}

async function loadVehicleTaskView(
  deps: Pick<TaskDeps, 'corpId' | 'timeZone'>,
  task: Pick<TaskLean, 'advisorUserid' | 'dueAt' | 'talkTrack' | 'vehicleId'>,
): Promise<TaskView> {
  const [vehicle, advisor] = await Promise.all([
    VehicleModel.findOne({ _id: task.vehicleId, corpId: deps.corpId }, { model: 1, vin: 1 }).lean(),
    AdvisorModel.findOne({ corpId: deps.corpId, userid: task.advisorUserid }, { name: 1 }).lean(),
  ]);
  const model = vehicle?.model ?? undefined;
  const label = vehicle ? vehicleLabel(vehicle) : '一辆车';
  const advisorName = advisor?.name || task.advisorUserid;
  return {
    customer: label,
    model,
    advisorName,
    due: dayjs.utc(task.dueAt).tz(deps.timeZone).format('MM-DD HH:mm'),
    talkTrack: renderTalkTrack(task.talkTrack, { customer: '车主', model, advisorName }),
    vehicle: vehicle ? { model, vinTail: vinTail(vehicle.vin) } : undefined,
  };
}

/** The words a card, digest line or task page shows instead of a customer for a broadcast confirmation. */
export const BROADCAST_CONFIRM_SUBJECT = '群发助手';
/** Where an advisor confirms a mass send in the WeCom client (docs/wecom.md §3.10). */
export const BROADCAST_CONFIRM_HINT =
  '请打开企业微信「工作台 → 客户联系 → 客户群发」（群发助手），找到这条群发并点击发送。确认后任务自动完成。';

/** A broadcast confirmation names no customer: its subject is the WeCom 群发助手 (docs/engagement.md). */
async function loadBroadcastTaskView(
  deps: Pick<TaskDeps, 'corpId' | 'timeZone'>,
  task: Pick<TaskLean, 'advisorUserid' | 'dueAt'>,
): Promise<TaskView> {
  const advisor = await AdvisorModel.findOne({ corpId: deps.corpId, userid: task.advisorUserid }, { name: 1 }).lean();
  return {
    customer: BROADCAST_CONFIRM_SUBJECT,
    advisorName: advisor?.name || task.advisorUserid,
    due: dayjs.utc(task.dueAt).tz(deps.timeZone).format('MM-DD HH:mm'),
  };
}

export const taskPageUrl = (publicBaseUrl: string, taskId: string): string =>
  `${publicBaseUrl}/console/m/tasks/${taskId}`;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The advisor's `button_interaction` card (docs/wecom.md §3.12): done with an outcome, snooze, unreachable. */
export function advisorCard(
  task: Pick<TaskLean, '_id' | 'title' | 'reason'> & Partial<Pick<TaskLean, 'kind'>>,
  view: TaskView,
  wecomTaskId: string,
  publicBaseUrl: string,
  note?: string,
): TemplateCard {
  const url = taskPageUrl(publicBaseUrl, String(task._id));
  if (task.kind === 'add_on_wecom') return addOnWecomCard(task, view, wecomTaskId, url, note);
  if (task.kind === 'broadcast_confirm') return broadcastConfirmCard(task, view, wecomTaskId, url, note);
  return {
    card_type: 'button_interaction',
    task_id: wecomTaskId,
    source: { desc: note ?? '跟进任务' },
    main_title: { title: cut(task.title, 26), desc: `截止 ${view.due}` },
    sub_title_text: cut(view.talkTrack ?? '', 120) || undefined,
    horizontal_content_list: [
      { keyname: '客户', value: cut(view.customer, 20) },
      ...(view.model ? [{ keyname: '车型', value: cut(view.model, 20) }] : []),
      ...(task.reason ? [{ keyname: '原因', value: cut(task.reason, 20) }] : []),
      { type: 1, keyname: '详情', value: '打开任务', url },
    ],
    card_action: { type: 1, url },
    button_list: [
      { text: '已联系', style: 1, key: BUTTON.contacted },
      { text: '已预约到店', style: 1, key: BUTTON.appointment },
      { text: '客户婉拒', style: 2, key: BUTTON.declined },
      { text: '推迟1天', style: 2, key: BUTTON.snooze },
      { text: '联系不上', style: 3, key: BUTTON.unreachable },
    ],
  };
}

/**
 * The card of an "add this owner on WeCom" task (docs/outcomes.md): names the vehicle, not a
 * customer; the task closes by itself once the owner adds the dealer, so the buttons are only
 * "invited" (done, contacted), snooze and unreachable.
 */
function addOnWecomCard(
  task: Pick<TaskLean, 'title' | 'reason'>,
  view: TaskView,
  wecomTaskId: string,
  url: string,
  note?: string,
): TemplateCard {
  return {
    card_type: 'button_interaction',
    task_id: wecomTaskId,
    source: { desc: note ?? '添加车主企业微信' },
    main_title: { title: cut(task.title, 26), desc: `截止 ${view.due}` },
    sub_title_text: cut(view.talkTrack ?? `请添加这位车主为企业微信好友：${view.customer}`, 120),
    horizontal_content_list: [
      { keyname: '车辆', value: cut(view.customer, 20) },
      ...(task.reason ? [{ keyname: '原因', value: cut(task.reason, 20) }] : []),
      { type: 1, keyname: '详情', value: '打开任务', url },
    ],
    card_action: { type: 1, url },
    button_list: [
      { text: '已邀请添加', style: 1, key: BUTTON.contacted },
      { text: '推迟1天', style: 2, key: BUTTON.snooze },
      { text: '联系不上', style: 3, key: BUTTON.unreachable },
    ],
  };
}

/**
 * The card of a broadcast confirmation task (docs/engagement.md): the hint to confirm in the WeCom
 * 群发助手, no customer and no buttons, since the task closes by itself once WeCom reports the send
 * confirmed (or cancelled when the send ends). A click opens the task page with the same hint.
 */
function broadcastConfirmCard(
  task: Pick<TaskLean, 'title'>,
  view: TaskView,
  wecomTaskId: string,
  url: string,
  note?: string,
): TemplateCard {
  return {
    card_type: 'text_notice',
    task_id: wecomTaskId,
    source: { desc: note ?? '营销群发待确认' },
    main_title: { title: cut(task.title, 26), desc: `截止 ${view.due}` },
    sub_title_text: cut(BROADCAST_CONFIRM_HINT, 120),
    horizontal_content_list: [{ type: 1, keyname: '详情', value: '打开任务', url }],
    card_action: { type: 1, url },
  };
}

/**
 * The leader's card (docs/tasks.md): names advisor, customer and task. At the flag step with
 * reassignment configured it offers the advisor's colleagues in a dropdown and a reassign button.
 */
export function leaderCard(
  task: Pick<TaskLean, '_id' | 'title'> & Partial<Pick<TaskLean, 'kind'>>,
  view: TaskView,
  level: number,
  wecomTaskId: string,
  publicBaseUrl: string,
  candidates: Array<{ userid: string; name: string }>,
): TemplateCard {
  const url = taskPageUrl(publicBaseUrl, String(task._id));
  const flagged = level >= 3;
  const card: TemplateCard = {
    card_type: 'button_interaction',
    task_id: wecomTaskId,
    source: { desc: flagged ? '逾期任务已标记' : '逾期任务升级' },
    main_title: { title: cut(`${view.advisorName} 的任务逾期未完成`, 26), desc: `截止 ${view.due}` },
    sub_title_text: cut(
      task.kind === 'broadcast_confirm'
        ? `顾问 ${view.advisorName} 已被提醒，仍未在「群发助手」确认营销群发（任务「${task.title}」）。请跟进。`
        : `顾问 ${view.advisorName} 对${view.vehicle ? '车辆' : '客户'}「${view.customer}」的任务「${task.title}」仍未完成。`,
      120,
    ),
    horizontal_content_list: [
      { keyname: '顾问', value: cut(view.advisorName, 20) },
      {
        keyname: task.kind === 'broadcast_confirm' ? '待确认' : view.vehicle ? '车辆' : '客户',
        value: cut(view.customer, 20),
      },
      { keyname: '任务', value: cut(task.title, 20) },
      { type: 1, keyname: '详情', value: '打开任务', url },
    ],
    card_action: { type: 1, url },
    button_list: [{ type: 1, text: '查看任务', style: 1, url }],
  };
  if (flagged && candidates.length > 0) {
    card.button_selection = {
      question_key: 'advisor',
      title: '改派给',
      option_list: candidates.slice(0, 10).map((c) => ({ id: c.userid, text: cut(c.name || c.userid, 16) })),
      selected_id: candidates[0]?.userid,
    };
    card.button_list = [
      { text: '改派', style: 1, key: BUTTON.reassign },
      { type: 1, text: '查看任务', style: 2, url },
    ];
  }
  return card;
}

/** What a clicked card turns into (update_template_card, button replacement: docs/wecom.md §3.13). */
export function resultText(
  task: Pick<TaskLean, 'status' | 'outcome' | 'remindAt' | 'advisorUserid'>,
  timeZone: string,
): string {
  switch (task.status) {
    case 'done':
      return `已完成 · ${task.outcome ? OUTCOME_LABEL[task.outcome] : ''}`;
    case 'unreachable':
      return '已标记联系不上';
    case 'cancelled':
      return '任务已取消';
    default:
      return `已推迟至 ${dayjs.utc(task.remindAt).tz(timeZone).format('MM-DD HH:mm')}`;
  }
}
