/**
 * Rules on leads (docs/acquisition.md "Rules on leads"): `lead.created` and `lead.stage_changed`
 * with lead conditions, against the WeCom sandbox and the dev MongoDB server.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../auth/principal.js';
import { LeadModel, type LeadStage } from '../../acquisition/lead.model.js';
import { CustomerModel } from '../../customers/customer.model.js';
import type { DomainEvent } from '../../events/domain-event.js';
import { ScheduleModel } from '../../schedules/schedule.model.js';
import { previewRule } from '../preview.js';
import { RuleModel } from '../rule.model.js';
import { ruleBodySchema, ruleCreateSchema, type RuleBodyInput } from '../rule.schema.js';
import { RuleService } from '../rule.service.js';
import { handleDomainEvent } from './engine.js';
import { DEMO_CORP_ID, type EngineHarness, useEngineHarness } from './engine.test-support.js';
import { ExecutionModel } from './execution.model.js';

let h: EngineHarness;
useEngineHarness('lead-rules', (harness) => (h = harness));
const admin: Principal = { role: 'admin', corps: '*', tokenId: 'test' };

beforeEach(async () => {
  await Promise.all(
    [RuleModel, ExecutionModel, ScheduleModel, CustomerModel, LeadModel].map((m) =>
      (m as typeof RuleModel).deleteMany({}),
    ),
  );
  h.sandbox.context.calls.clear();
  h.clock.set(Date.parse('2026-05-10T02:00:00Z'));
});

const createRule = async (body: Omit<RuleBodyInput, 'scope'>) =>
  new RuleService(() => h.clock.now()).create(
    admin,
    ruleCreateSchema.parse({ ...body, scope: DEMO_CORP_ID, enabled: true }),
  );
const sent = () =>
  h.sandbox.context.calls
    .list({ endpoint: 'message/send', corpId: DEMO_CORP_ID })
    .filter((c) => c.errcode === 0 || c.errcode === undefined);

async function lead(opts: { stage?: LeadStage; customerId?: string; source?: string; model?: string } = {}) {
  const l = await LeadModel.create({
    corpId: DEMO_CORP_ID,
    source: opts.source ?? 'autohome',
    model: opts.model ?? '星途瑶光 2026款',
    stage: opts.stage ?? 'new',
    advisorUserid: 'zhangwei',
    assignment: 1,
    lastInterestAt: h.clock.now(),
    ...(opts.customerId ? { customerId: opts.customerId } : {}),
  });
  return String(l._id);
}

const leadEvent = (
  type: 'lead.created' | 'lead.stage_changed',
  leadId: string,
  data: Record<string, unknown> = {},
  customerId?: string,
): DomainEvent => ({
  type,
  corpId: DEMO_CORP_ID,
  sourceId: `lead-${leadId}-${type}`,
  occurredAt: h.clock.now().toISOString(),
  userid: 'zhangwei',
  ...(customerId ? { customerId } : {}),
  data: { leadId, source: 'autohome', ...data },
});

describe('lead rules', () => {
  it('lead.created: the advisor is told with a link to the lead; a lead not on WeCom gets no task or message', async () => {
    const rule = await createRule({
      name: '新线索提醒',
      trigger: { type: 'lead.created' },
      conditions: { lead: { sources: ['autohome', 'dcc'], models: ['瑶光'] } },
      actions: [
        { type: 'notify_advisor', format: 'card', title: '汽车之家新线索', text: '请在 15 分钟内联系' },
        { type: 'follow_up', title: '跟进线索' },
        { type: 'message_customer', text: '感谢关注星途' },
      ],
    });
    const id = await lead();
    expect(await handleDomainEvent(h.deps, leadEvent('lead.created', id))).toEqual([
      { ruleId: rule.id, outcome: 'ran' },
    ]);
    const notices = sent();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.body).toMatchObject({ touser: 'zhangwei', msgtype: 'template_card' });
    expect(JSON.stringify(notices[0]?.body)).toContain(`/console/m/leads/${id}`);
    const [execution] = await ExecutionModel.find({ ruleId: rule.id }).lean();
    expect(execution).toMatchObject({ subject: `lead:${id}`, occurrenceId: `lead:${id}:created`, status: 'done' });
    expect(execution?.actions.map((a) => [a.status, a.reason ?? null])).toEqual([
      ['done', null],
      ['skipped', 'lead_not_on_wecom'],
      ['skipped', 'lead_not_on_wecom'],
    ]);
    expect(await ScheduleModel.countDocuments({})).toBe(0);

    // Replayed event: nothing twice. A lead from another source: the lead condition fails.
    expect(await handleDomainEvent(h.deps, leadEvent('lead.created', id))).toEqual([
      { ruleId: rule.id, outcome: 'duplicate' },
    ]);
    const other = await lead({ source: 'walk_in' });
    expect(await handleDomainEvent(h.deps, leadEvent('lead.created', other))).toEqual([
      { ruleId: rule.id, outcome: 'conditions_failed' },
    ]);
    expect(sent()).toHaveLength(1);

    // Preview counts the open leads the lead conditions match (not customers).
    const body = ruleBodySchema.parse({ ...(await RuleModel.findById(rule.id).lean())?.body });
    const preview = await previewRule(body, {
      corpId: DEMO_CORP_ID,
      timeZone: 'Asia/Shanghai',
      quietHours: null,
      now: h.clock.now(),
    });
    expect(preview).toMatchObject({ matching: 1, scanned: 2, exact: true });
  });

  it('lead.stage_changed to test_drive with a from/to condition: a follow-up task for the matched customer', async () => {
    const rule = await createRule({
      name: '试驾后跟进',
      trigger: { type: 'lead.stage_changed' },
      conditions: { lead: { fromStages: ['added', 'contacted'], toStages: ['test_drive'] } },
      actions: [{ type: 'follow_up', title: '试驾后回访', dueIn: '1d' }],
    });
    const customer = await CustomerModel.create({
      corpId: DEMO_CORP_ID,
      externalUserId: 'wmSandboxDemoCustomer00000000002',
      responsibleUserid: 'zhangwei',
      lifecycle: { stage: 'prospect', reason: 'test' },
    });
    const id = await lead({ stage: 'test_drive', customerId: String(customer._id) });
    const toAdded = leadEvent('lead.stage_changed', id, { from: 'contacted', to: 'added' }, String(customer._id));
    expect(await handleDomainEvent(h.deps, toAdded)).toEqual([{ ruleId: rule.id, outcome: 'conditions_failed' }]);
    const toDrive = leadEvent('lead.stage_changed', id, { from: 'added', to: 'test_drive' }, String(customer._id));
    expect(await handleDomainEvent(h.deps, toDrive)).toEqual([{ ruleId: rule.id, outcome: 'ran' }]);
    const schedules = await ScheduleModel.find({ ruleId: rule.id }).lean();
    expect(schedules).toHaveLength(1);
    expect(schedules[0]).toMatchObject({
      kind: 'follow_up',
      advisorUserid: 'zhangwei',
      occurrenceId: `lead:${id}:test_drive`,
    });
    expect(String(schedules[0]?.customerId)).toBe(String(customer._id));
  });

  it('refuses lead conditions on other triggers and from/to stages on lead.created, with a message', () => {
    const base = { name: 'x', scope: DEMO_CORP_ID, actions: [{ type: 'notify_advisor', text: 'hi' }] };
    const onAdd = ruleCreateSchema.safeParse({
      ...base,
      trigger: { type: 'customer.added' },
      conditions: { lead: { sources: ['dcc'] } },
    });
    expect(onAdd.error?.issues[0]?.message).toMatch(/lead conditions need a lead trigger/);
    const fromOnCreate = ruleCreateSchema.safeParse({
      ...base,
      trigger: { type: 'lead.created' },
      conditions: { lead: { toStages: ['test_drive'] } },
    });
    expect(fromOnCreate.error?.issues[0]?.message).toMatch(/toStages needs the lead.stage_changed trigger/);
    const badStage = ruleCreateSchema.safeParse({
      ...base,
      trigger: { type: 'lead.stage_changed' },
      conditions: { lead: { toStages: ['sold'] } },
    });
    expect(badStage.success).toBe(false);
  });
});
