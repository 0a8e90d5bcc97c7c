import { outcomeInputSchema } from '../../domain/outcomes/outcome-input.js';
import { OUTCOME_READERS, OUTCOME_WRITERS } from './outcomes.routes.js';
import {
  BROADCAST_APPROVERS,
  BROADCAST_AUTHORS,
  BROADCAST_READERS,
  broadcastCreateSchema,
  broadcastListQuery,
  broadcastPreviewSchema,
} from './broadcasts.routes.js';
import {
  MOMENT_AUTHORS,
  MOMENT_READERS,
  momentCreateSchema,
  momentKpiQuery,
  momentListQuery,
} from './moments.routes.js';
import { z } from 'zod';
import {
  GROUP_READERS,
  GROUP_WRITERS,
  groupKpiQuery,
  groupListQuery,
  groupPatchBody,
  welcomeTemplateBody,
} from './groups.routes.js';
import { corpInputSchema, corpPatchSchema } from '../../domain/corps/corp.types.js';
import { customerAttributesSchema } from '../../domain/customers/customer-attributes.service.js';
import { ruleBodySchema, ruleCreateSchema } from '../../domain/rules/rule.schema.js';
import { vehicleInputSchema } from '../../domain/vehicles/vehicle-input.js';
import type { Role } from '../../domain/auth/principal.js';
import { auditQuerySchema } from './audit.routes.js';
import { customerSearchQuery } from '../../domain/customers/customer-search.js';
import { CUSTOMER_READERS, timelineQuery } from './customers.routes.js';
import {
  advisorsQuery,
  completeBody,
  reassignBody,
  reassignBulkBody,
  TASK_READERS,
  TASK_REASSIGNERS,
  TASK_WORKERS,
  snoozeBody,
  taskListQuery,
} from './tasks.routes.js';
import { TRANSFER_READERS, TRANSFER_STARTERS } from './transfers.routes.js';
import { CHANNEL_QR_READERS, CHANNEL_READERS, CHANNEL_WRITERS } from './channels.routes.js';
import {
  LEAD_MANAGERS,
  LEAD_READERS,
  LEAD_SALE_RECORDERS,
  LEAD_SETTINGS_ROLES,
  LEAD_WORKERS,
  LEAD_WRITERS,
} from './leads.routes.js';
import { channelCreateSchema, channelUpdateSchema } from '../../domain/acquisition/channel-input.js';
import { leadInputSchema } from '../../domain/acquisition/lead-input.js';
import { LEAD_STAGES } from '../../domain/acquisition/lead.types.js';
import { acquisitionSettingsSchema } from '../../domain/acquisition/acquisition-settings.js';
import { transferStartBody } from './transfer-present.js';
import { anomaliesQuery, KPI_READERS, kpiQuery, overviewQuery } from './kpis.routes.js';
import { erasureRequestSchema } from '../../domain/privacy/erasure-reasons.js';
import { OPT_OUT_RECORDERS, optOutBodySchema, PRIVACY_ADMINS } from './privacy.routes.js';
import { RULE_AUTHORS, RULE_READERS, ruleDuplicateSchema, ruleOptionsQuery } from './rules.routes.js';
import { SETTINGS_ROLES, corpSettingsPatchSchema } from './corp-settings.routes.js';
import { tokenCreateSchema } from './tokens.routes.js';
import { CONTENT_AUTHORS, CONTENT_READERS } from './content.routes.js';
import { SEGMENT_AUTHORS, SEGMENT_READERS } from './segments.routes.js';
import { segmentInput, segmentListQuery, segmentUpdate } from '../../domain/segments/segment.schema.js';
import { contentItemInput, contentListQuery } from '../../domain/content/content.schema.js';
import {
  jsapiConfigQuery,
  SIDEBAR_READERS,
  sidebarCustomerQuery,
  sidebarGroupQuery,
  sidebarNoteBody,
  sidebarSendBody,
} from './sidebar.routes.js';
import { ROUTE_POLICIES } from '../policy/route-policies.js';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  roles: readonly Role[];
  body?: z.ZodType;
  query?: z.ZodObject;
  ok: number;
}

/** The roles the policy table gives an operation (the table is what the router enforces). */
function policyRoles(op: Operation): readonly Role[] | 'public' {
  return ROUTE_POLICIES[`${op.method.toUpperCase()} /api/v1${op.path.replace(/\{(\w+)\}/g, ':$1')}`]?.roles ?? op.roles;
}

/** Every `/api/v1` operation; request schemas are the same zod schemas the routes parse with. */
const operations: Operation[] = [
  {
    method: 'get',
    path: '/rules',
    summary:
      'List rules (filter by scope, enabled), each with hitsThisMonth: executions in the caller corps this calendar month',
    roles: RULE_READERS,
    ok: 200,
    query: z.object({ scope: z.string().optional(), enabled: z.enum(['true', 'false']).optional() }),
  },
  {
    method: 'post',
    path: '/rules',
    summary: 'Create a rule (version 1)',
    roles: RULE_AUTHORS,
    body: ruleCreateSchema,
    ok: 201,
  },
  {
    method: 'post',
    path: '/rules/preview',
    summary: 'Preview a draft rule without saving or doing anything',
    roles: RULE_AUTHORS,
    body: ruleBodySchema,
    ok: 200,
    query: z.object({ corpId: z.string().optional() }),
  },
  { method: 'get', path: '/rules/{id}', summary: 'Get a rule with its version history', roles: RULE_READERS, ok: 200 },
  {
    method: 'put',
    path: '/rules/{id}',
    summary: 'Replace a rule: a new version (If-Match: <version> guards concurrent edits)',
    roles: RULE_AUTHORS,
    body: ruleBodySchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/rules/{id}/enable',
    summary: 'Enable (for one-corp principals: only in their corps)',
    roles: [...RULE_AUTHORS, 'dealer_admin'],
    ok: 200,
  },
  {
    method: 'post',
    path: '/rules/{id}/disable',
    summary: 'Disable (a corp switching off an all-corps rule)',
    roles: [...RULE_AUTHORS, 'dealer_admin'],
    ok: 200,
  },
  { method: 'delete', path: '/rules/{id}', summary: 'Delete (soft)', roles: RULE_AUTHORS, ok: 204 },
  {
    method: 'post',
    path: '/rules/{id}/preview',
    summary: 'Preview a stored rule',
    roles: RULE_AUTHORS,
    ok: 200,
    query: z.object({ corpId: z.string().optional() }),
  },
  {
    method: 'get',
    path: '/rules/options',
    summary:
      'Picker data for the rule form: visible dealer corps, date fields, and for one corp its tags, channel states, vehicle models',
    roles: RULE_READERS,
    ok: 200,
    query: ruleOptionsQuery,
  },
  {
    method: 'get',
    path: '/rules/{id}/versions',
    summary: 'Every version of a rule, newest first',
    roles: RULE_READERS,
    ok: 200,
  },
  {
    method: 'post',
    path: '/rules/{id}/duplicate',
    summary:
      'Copy a rule into another corp (a new disabled rule, version 1; warnings name tags, channel states and models the corp lacks)',
    roles: RULE_AUTHORS,
    body: ruleDuplicateSchema,
    ok: 201,
  },
  { method: 'get', path: '/corps', summary: 'List corps (no secrets)', roles: ['admin'], ok: 200 },
  { method: 'get', path: '/corps/{corpId}', summary: 'Get a corp (no secrets)', roles: ['admin'], ok: 200 },
  {
    method: 'post',
    path: '/corps',
    summary: 'Add a corp (secrets write-only)',
    roles: ['admin'],
    body: corpInputSchema,
    ok: 201,
  },
  {
    method: 'patch',
    path: '/corps/{corpId}',
    summary: 'Change a corp (secrets write-only)',
    roles: ['admin'],
    body: corpPatchSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/corps/{corpId}/settings',
    summary: "A corp's settings (secrets only as set / not set)",
    roles: SETTINGS_ROLES,
    ok: 200,
  },
  {
    method: 'patch',
    path: '/corps/{corpId}/settings',
    summary: "Change a corp's settings (sections replaced whole; only admins change enabled or the admins list)",
    roles: SETTINGS_ROLES,
    body: corpSettingsPatchSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/tokens',
    summary: 'List API tokens (never the token or its hash)',
    roles: ['admin'],
    ok: 200,
  },
  {
    method: 'post',
    path: '/tokens',
    summary: 'Create an API token (shown once in the answer)',
    roles: ['admin'],
    body: tokenCreateSchema,
    ok: 201,
  },
  { method: 'delete', path: '/tokens/{tokenId}', summary: 'Revoke an API token', roles: ['admin'], ok: 204 },
  {
    method: 'get',
    path: '/audit',
    summary: 'Audit log, newest first',
    roles: ['admin'],
    query: auditQuerySchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/vehicles',
    summary: 'Upsert one vehicle or a batch of up to 1,000',
    roles: ['admin', 'dealer_admin', 'integration'],
    body: z.union([
      vehicleInputSchema.extend({ corpId: z.string() }),
      z.object({ corpId: z.string(), vehicles: z.array(vehicleInputSchema).max(1000) }),
    ]),
    ok: 200,
  },
  {
    method: 'patch',
    path: '/customers/{id}/attributes',
    summary: 'Set dealer-supplied attributes (birthday ...)',
    roles: ['admin', 'dealer_admin', 'integration'],
    body: customerAttributesSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/customers/{id}',
    summary: "Erase a customer's personal data (reason code; audited tombstone)",
    roles: PRIVACY_ADMINS,
    body: erasureRequestSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/customers/{id}/export',
    summary: 'Everything held about a customer, as JSON (audited)',
    roles: PRIVACY_ADMINS,
    ok: 200,
  },
  {
    method: 'get',
    path: '/customers/{id}/privacy',
    summary: 'Opt-out, privacy notice and erasure state of a customer',
    roles: OPT_OUT_RECORDERS,
    ok: 200,
  },
  {
    method: 'post',
    path: '/customers/{id}/opt-out',
    summary: 'Opt a customer out of automated marketing (audited)',
    roles: OPT_OUT_RECORDERS,
    body: optOutBodySchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/customers/{id}/opt-out',
    summary: 'Withdraw an opt-out (audited)',
    roles: OPT_OUT_RECORDERS,
    body: optOutBodySchema,
    ok: 200,
  },
  {
    method: 'post',
    path: '/customers/search',
    summary:
      'Find customers by exact name, remark or phone (keyed-hash index: no substring search on sealed fields) or VIN; the term travels in the body, never in a URL (audited: kind and count)',
    roles: CUSTOMER_READERS,
    body: customerSearchQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/customers',
    summary:
      'The customers an advisor actively follows (?advisor=), or with status=lost|lifecycle=owner and from/to the customers behind a cockpit number (audited: kind and count); a search term in the URL is refused (use POST /customers/search)',
    roles: CUSTOMER_READERS,
    query: z.object({
      corpId: z.string().optional(),
      advisor: z.string(),
      status: z.enum(['lost']).optional(),
      lifecycle: z.enum(['owner']).optional(),
      from: z.string().optional(),
      to: z.string().optional(),
    }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/customers/{id}',
    summary:
      "A customer's profile: relationships, tags, vehicles, lifecycle and reasons (audited read of personal data)",
    roles: CUSTOMER_READERS,
    ok: 200,
  },
  {
    method: 'get',
    path: '/customers/{id}/timeline',
    summary: 'Events, tasks, planned follow-ups and messages of a customer, newest first (ids and codes only)',
    roles: CUSTOMER_READERS,
    query: timelineQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/tasks',
    summary:
      "List tasks, newest first (filters; cursor `before` = the previous page's `next`; include=customer adds names, audited)",
    roles: TASK_READERS,
    query: taskListQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/tasks.csv',
    summary: 'The listed tasks as CSV (same filters; no customer data)',
    roles: TASK_READERS,
    query: taskListQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/tasks/{id}',
    summary: 'One task with its history and rendered card content (audited)',
    roles: TASK_READERS,
    ok: 200,
  },
  {
    method: 'post',
    path: '/tasks/{id}/complete',
    summary: 'Complete an open task with an outcome (409 task_closes_itself for a broadcast confirmation)',
    roles: TASK_WORKERS,
    body: completeBody,
    ok: 200,
  },
  {
    method: 'post',
    path: '/tasks/{id}/snooze',
    summary: 'Remind again after N days (1–30; due time unchanged)',
    roles: TASK_WORKERS,
    body: snoozeBody,
    ok: 200,
  },
  {
    method: 'post',
    path: '/tasks/{id}/unreachable',
    summary: 'Close an open task as unreachable (409 task_closes_itself for a broadcast confirmation)',
    roles: TASK_WORKERS,
    ok: 200,
  },
  {
    method: 'post',
    path: '/tasks/{id}/reassign',
    summary: 'Give an open task to another active member (managers: their departments)',
    roles: TASK_REASSIGNERS,
    body: reassignBody,
    ok: 200,
  },
  {
    method: 'post',
    path: '/tasks/reassign-bulk',
    summary:
      'Move open tasks of one advisor to another (selected ids, or all; at most 500 per call, `remaining` says the rest)',
    roles: TASK_REASSIGNERS,
    body: reassignBulkBody,
    ok: 200,
  },
  {
    method: 'get',
    path: '/advisors',
    summary: 'Members to pick for tasks, transfers and channel codes (managers: their departments)',
    roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'],
    query: advisorsQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/tasks',
    summary: 'Follow-up task KPIs per advisor over tasks due in [from, to)',
    roles: [...KPI_READERS],
    query: kpiQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/definitions',
    summary: 'Cockpit metric definitions (zh + en labels and hover text)',
    roles: [...KPI_READERS],
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/overview',
    summary:
      'Cockpit overview from daily rollups: totals, series, rows per corp/department/advisor with anomaly flags (corp-local days, to exclusive, ≤ 400 days)',
    roles: [...KPI_READERS],
    query: overviewQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/overview.csv',
    summary: 'The overview rows as CSV (formula cells neutralised)',
    roles: [...KPI_READERS],
    query: overviewQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/anomalies',
    summary:
      'Anomaly flags of advisors and dealers for the week starting `week` (a Monday) vs their previous 8 weeks and peers; advisors also on their no-show rate (`metric: no_show_rate`, with the no-shows behind it)',
    roles: [...KPI_READERS],
    query: anomaliesQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/transfers',
    summary: 'Start a WeCom customer transfer (in service or resigned); 202 with the id to follow',
    roles: TRANSFER_STARTERS,
    body: transferStartBody,
    ok: 202,
  },
  {
    method: 'get',
    path: '/transfers',
    summary: 'Recent transfers (100, newest first)',
    roles: TRANSFER_READERS,
    query: z.object({ corpId: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/transfers/{id}',
    summary: 'One transfer with per-customer results in words (404 until the worker started it)',
    roles: TRANSFER_READERS,
    ok: 200,
  },
  {
    method: 'post',
    path: '/outcomes',
    summary:
      'Upsert DMS outcomes (appointment, repair order, insurance policy, vehicle sale): one, or a batch of up to 1,000, answered per item (created, updated, unchanged, stale = an older version, rejected with reasons). The same items can be pushed to the signed webhook POST /webhooks/dms/{corpId} (README, "Outcomes from your DMS")',
    roles: [...OUTCOME_WRITERS],
    body: z.union([
      z.object({ corpId: z.string() }).and(outcomeInputSchema),
      z.object({ corpId: z.string(), outcomes: z.array(outcomeInputSchema).max(1000) }),
    ]),
    ok: 200,
  },
  {
    method: 'get',
    path: '/outcomes/unmatched',
    summary: 'Outcomes whose owner the bot does not know (newest first; cursor `before`)',
    roles: [...OUTCOME_READERS],
    query: z.object({ corpId: z.string(), limit: z.string().optional(), before: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/outcomes/unreachable-owners',
    summary: 'DMS vehicles whose owner has no active WeCom relationship (VIN, sales advisor)',
    roles: [...OUTCOME_READERS],
    query: z.object({ corpId: z.string(), limit: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/outcomes',
    summary:
      'Result KPIs for [from, to): return, first-maintenance, renewal, booked→arrived rates, no-shows per advisor, connectable rate, dormant owners, attributed/organic revenue, funnel by rule or advisor, with definitions and the counts behind the rates. Narrowed like the cockpit: advisor (their owners and work), department, dealer (corpId); oem/admin without corpId get the car maker: the sum over its dealers with a row per dealer (`dealers`). Advisors see their own, managers their departments',
    roles: [...KPI_READERS],
    query: z.object({
      corpId: z.string().optional(),
      advisor: z.string().optional(),
      department: z.string().optional(),
      from: z.string(),
      to: z.string(),
      by: z.enum(['rule', 'advisor']).optional(),
    }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/campaigns/{ruleId}/report',
    summary:
      'Holdout campaign report of a rule: treated vs held-out customers, outcome rate in the window, revenue per customer, uplift with a 95 % Newcombe (Wilson) interval and whether it is significant',
    roles: [...OUTCOME_READERS],
    query: z.object({ corpId: z.string(), windowDays: z.string().optional(), types: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/sidebar/customer',
    summary:
      "The chat sidebar's view of one customer (external_userid from getCurExternalContact): only customers with an active relationship to the member (managers: their departments); audited, refusals too",
    roles: [...SIDEBAR_READERS],
    query: sidebarCustomerQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/sidebar/sends',
    summary:
      'Record a message the advisor sent into the chat from the sidebar (counted as a touch, not toward the campaign cap)',
    roles: [...SIDEBAR_READERS],
    body: sidebarSendBody,
    ok: 201,
  },
  {
    method: 'get',
    path: '/sidebar/group',
    summary:
      'The chat sidebar in a customer group (chat id from getCurExternalChat): name, owner, counts, and its customers with vehicles and due follow-ups; only for the group owner, admins and staff members; audited, refusals too',
    roles: [...SIDEBAR_READERS],
    query: sidebarGroupQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/sidebar/note',
    summary:
      "The advisor's note about the customer: the member's own, else the responsible advisor's (read-only); audited",
    roles: [...SIDEBAR_READERS],
    query: sidebarCustomerQuery,
    ok: 200,
  },
  {
    method: 'put',
    path: '/sidebar/note',
    summary:
      "Write (empty: clear) the signed-in advisor's own note about a customer they actively follow; sealed at rest",
    roles: [...SIDEBAR_READERS],
    body: sidebarNoteBody,
    ok: 200,
  },
  {
    method: 'get',
    path: '/sidebar/jsapi-config',
    summary: 'JS-SDK signatures (config and agentConfig) for a page of this console',
    roles: [...SIDEBAR_READERS],
    query: jsapiConfigQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts',
    summary:
      'Create a broadcast (segment or owner groups; single or group chat; holdout) waiting for approval; dealers: one copy per dealer. The text may use the talk-track variables {客户}, {车型}, {顾问} (segments only; rendered per customer, one WeCom mass send per advisor per distinct text); 422 when an advisor would get more than 5 distinct messages, for group chats, and for unknown placeholders',
    roles: [...BROADCAST_AUTHORS],
    body: broadcastCreateSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/broadcasts',
    summary: 'Broadcasts of the caller corps, newest first',
    roles: [...BROADCAST_READERS],
    query: broadcastListQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts/preview',
    summary:
      'Preview a draft: customers, groups and distinct messages (群发助手 tasks) per advisor, exclusions and why, WeCom calls; 422 when a variable would give an advisor more than maxMessagesPerAdvisor (5) messages',
    roles: [...BROADCAST_AUTHORS],
    body: broadcastPreviewSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/broadcasts/{id}',
    summary: 'A broadcast with progress per advisor: sent, not yet confirmed, failed with reasons in words',
    roles: [...BROADCAST_READERS],
    ok: 200,
  },
  {
    method: 'get',
    path: '/broadcasts/{id}/report',
    summary:
      'Holdout report of a broadcast: customers WeCom reported it sent to vs those its holdout share kept out, outcome rate in the window, revenue per customer, uplift with a 95 % Newcombe (Wilson) interval and whether it is significant',
    roles: [...BROADCAST_READERS],
    query: z.object({ windowDays: z.string().optional(), types: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts/{id}/preview',
    summary: 'Preview a stored broadcast as it would be sent now (distinct messages per advisor; 422 over the cap)',
    roles: [...BROADCAST_READERS],
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts/{id}/approve',
    summary: "Approve a dealer's broadcast (a manager or the dealer admin; not its author)",
    roles: [...BROADCAST_APPROVERS],
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts/{id}/reject',
    summary: "Reject a dealer's broadcast",
    roles: [...BROADCAST_APPROVERS],
    ok: 200,
  },
  {
    method: 'post',
    path: '/broadcasts/{id}/cancel',
    summary: 'Cancel a broadcast; 202 when WeCom tasks were handed out (the worker cancels the unconfirmed ones)',
    roles: [...BROADCAST_AUTHORS, 'manager'],
    ok: 200,
  },
  {
    method: 'get',
    path: '/segments',
    summary: "Saved segments of the caller's corps (or one corp), by name",
    roles: [...SEGMENT_READERS],
    query: segmentListQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/segments',
    summary:
      "Save a segment: a name unique among the corp's segments and the rules' conditions; preview it with POST /broadcasts/preview and audience {kind: segment, segmentId}",
    roles: [...SEGMENT_AUTHORS],
    body: segmentInput,
    ok: 201,
  },
  { method: 'get', path: '/segments/{id}', summary: 'One saved segment', roles: [...SEGMENT_READERS], ok: 200 },
  {
    method: 'put',
    path: '/segments/{id}',
    summary: 'Rename a segment or change its conditions (unsent broadcasts naming it use the new conditions)',
    roles: [...SEGMENT_AUTHORS],
    body: segmentUpdate,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/segments/{id}',
    summary: 'Delete a segment (soft); 409 while a broadcast not yet sent names it',
    roles: [...SEGMENT_AUTHORS],
    ok: 204,
  },
  {
    method: 'post',
    path: '/moments',
    summary:
      'Create a Moments task (text; up to 9 images or one link with a cover; visible-to corp tags; advisors); 202, images uploaded and the task created in WeCom by the worker',
    roles: [...MOMENT_AUTHORS],
    body: momentCreateSchema,
    ok: 202,
  },
  {
    method: 'get',
    path: '/moments',
    summary: 'Moments tasks of a corp, newest first, with publish counts',
    roles: [...MOMENT_READERS],
    query: momentListQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/moments/{id}',
    summary: 'A Moments task: per-advisor publish status and reach, who was reminded',
    roles: [...MOMENT_READERS],
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/kpis/moments',
    summary: 'Cockpit: Moments tasks in a period, advisors asked, published and the published share',
    roles: [...MOMENT_READERS],
    query: momentKpiQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/content',
    summary: "The content library: the car maker's items (scope all) and the caller's corps' (filter by scope, kind)",
    roles: [...CONTENT_READERS],
    query: contentListQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/content',
    summary:
      'Add a library item: talk track, article link, image (a media id) or mini-program card, tagged by lifecycle stages, vehicle models and campaigns; texts may use {客户} {车型} {顾问}',
    roles: [...CONTENT_AUTHORS],
    body: contentItemInput,
    ok: 201,
  },
  { method: 'get', path: '/content/{id}', summary: 'One library item', roles: [...CONTENT_READERS], ok: 200 },
  {
    method: 'put',
    path: '/content/{id}',
    summary: 'Replace a library item',
    roles: [...CONTENT_AUTHORS],
    body: contentItemInput,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/content/{id}',
    summary: 'Delete a library item (soft)',
    roles: [...CONTENT_AUTHORS],
    ok: 204,
  },
  {
    method: 'get',
    path: '/groups',
    summary: 'Customer groups of a corp (counts, owner, purpose tags; no member ids)',
    roles: [...GROUP_READERS],
    query: groupListQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/groups/kpis',
    summary: 'Owner-group KPIs for a period: members, joins/quits, owners in groups, active groups',
    roles: [...GROUP_READERS],
    query: groupKpiQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/groups/{chatId}',
    summary: 'One customer group with its member ids and join scenes',
    roles: [...GROUP_READERS],
    ok: 200,
  },
  {
    method: 'patch',
    path: '/groups/{chatId}',
    summary: 'Set the purpose tags of a group',
    roles: [...GROUP_WRITERS],
    body: groupPatchBody,
    ok: 200,
  },
  {
    method: 'get',
    path: '/group-welcome-templates',
    summary: 'Group welcome templates with their WeCom sync state',
    roles: [...GROUP_READERS],
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/group-welcome-templates',
    summary: 'Add a group welcome template; 202, pushed to WeCom by the worker',
    roles: [...GROUP_WRITERS],
    body: welcomeTemplateBody,
    ok: 202,
  },
  {
    method: 'put',
    path: '/group-welcome-templates/{id}',
    summary: 'Edit a group welcome template; 202',
    roles: [...GROUP_WRITERS],
    body: welcomeTemplateBody,
    ok: 202,
  },
  {
    method: 'delete',
    path: '/group-welcome-templates/{id}',
    summary: 'Delete a group welcome template (also in WeCom); 202',
    roles: [...GROUP_WRITERS],
    query: z.object({ corpId: z.string() }),
    ok: 202,
  },
  {
    method: 'post',
    path: '/channels',
    summary: 'Create a channel QR code; the worker makes the WeCom contact way (syncState pending → synced | failed)',
    roles: CHANNEL_WRITERS,
    body: channelCreateSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/channels',
    summary: 'Channel codes of a corp (QR URL, state, WeCom members, sync state); advisors get the codes they are on',
    roles: CHANNEL_QR_READERS,
    query: z.object({ corpId: z.string(), includeDeleted: z.enum(['true', 'false']).optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/channels/kpis',
    summary: 'Per channel: adds, welcomes, owners, leads converted, cost per add; adds with unknown states listed',
    roles: CHANNEL_READERS,
    query: z.object({ corpId: z.string(), from: z.string().optional(), to: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/channels/{id}',
    summary: 'One channel code',
    roles: CHANNEL_READERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/channels/{id}/qr.png',
    summary:
      "The channel's QR image (WeCom's CDN, fetched by the bot so the console can compose a print PNG); 409 before the code is synced, 503 when WeCom's CDN fails",
    roles: CHANNEL_QR_READERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'patch',
    path: '/channels/{id}',
    summary: 'Edit a channel; WeCom gets the whole contact way again (state and remark never wiped)',
    roles: CHANNEL_WRITERS,
    query: z.object({ corpId: z.string() }),
    body: channelUpdateSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/channels/{id}',
    summary: 'Delete a channel and its WeCom contact way (past adds stay attributed)',
    roles: CHANNEL_WRITERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/leads',
    summary:
      'Lead intake: one lead or { corpId, leads: [...] } (≤ 1,000); per-item created / merged (repeat interest) / rejected; routed and carded at once',
    roles: LEAD_WRITERS,
    body: z.union([
      leadInputSchema.extend({ corpId: z.string() }),
      z.object({ corpId: z.string(), leads: z.array(leadInputSchema).max(1000) }),
    ]),
    ok: 200,
  },
  {
    method: 'get',
    path: '/leads',
    summary:
      "Lead board (managers: their departments and unassigned) or the advisor's leads; filters stage, source, advisor, unassigned (audited)",
    roles: LEAD_READERS,
    query: z.object({
      corpId: z.string(),
      stage: z.enum(LEAD_STAGES).optional(),
      source: z.string().optional(),
      advisor: z.string().optional(),
      unassigned: z.enum(['true', 'false']).optional(),
    }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/leads/kpis',
    summary:
      'Lead KPIs per source and advisor (time to first contact, SLA share, contact, added-on-WeCom, conversion) and uncontacted leads by name',
    roles: LEAD_READERS,
    query: z.object({ corpId: z.string(), from: z.string().optional(), to: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/leads/settings',
    summary: 'Lead routing rules, SLA, duplicate window, caps',
    roles: LEAD_READERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'put',
    path: '/leads/settings',
    summary: 'Set lead routing rules, SLA, duplicate window, caps',
    roles: LEAD_SETTINGS_ROLES,
    query: z.object({ corpId: z.string() }),
    body: acquisitionSettingsSchema,
    ok: 200,
  },
  {
    method: 'put',
    path: '/leads/availability/{userid}',
    summary: "An advisor's shift, leave, lead cap and on-duty flag (routing and team codes follow)",
    roles: LEAD_WORKERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'get',
    path: '/leads/{id}',
    summary: 'One lead with name and mobile and its history (audited)',
    roles: LEAD_READERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/leads/{id}/contacted',
    summary: 'Record first contact (stops the SLA ladder)',
    roles: LEAD_WORKERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/leads/{id}/stage',
    summary: 'Move a lead forward, or lost with a reason',
    roles: LEAD_WORKERS,
    query: z.object({ corpId: z.string() }),
    body: z.object({ stage: z.enum(LEAD_STAGES), lostReason: z.string().optional() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/leads/{id}/sale',
    summary: 'A sale: the lead is won and its customer becomes an owner',
    roles: LEAD_SALE_RECORDERS,
    query: z.object({ corpId: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/leads/{id}/assign',
    summary: 'Reassign a lead (fresh SLA and card)',
    roles: LEAD_MANAGERS,
    query: z.object({ corpId: z.string() }),
    body: z.object({ advisorUserid: z.string() }),
    ok: 200,
  },
  {
    method: 'post',
    path: '/ops/sweep',
    summary: 'Run the schedule sweep now (refused in production)',
    roles: ['admin'],
    ok: 200,
  },
];

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
      required: ['code', 'message'],
    },
  },
};

/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the zod schemas the routes validate
 * with (JSON Schema 2020-12 is OpenAPI 3.1's dialect), so the document cannot drift from the code.
 */
export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams = op.query
      ? Object.keys(op.query.shape).map((name) => ({
          name,
          in: 'query',
          required: false,
          schema: (jsonSchema(op.query as z.ZodObject).properties as Record<string, unknown>)[name],
        }))
      : [];
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      description: `Roles: ${op.roles.join(', ')}. Data is limited to the caller's corps.`,
      'x-roles': policyRoles(op),
      parameters: [...params, ...queryParams],
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }
        : {}),
      responses: {
        [String(op.ok)]: { description: 'OK' },
        401: { description: 'missing or invalid token', content: { 'application/json': { schema: errorSchema } } },
        403: {
          description: 'role not allowed or corp outside the token',
          content: { 'application/json': { schema: errorSchema } },
        },
        422: {
          description: 'validation problems as { path, message }',
          content: { 'application/json': { schema: errorSchema } },
        },
        429: { description: 'rate limited; see Retry-After', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'WeCom dealer SCRM admin API', version: '1' },
    servers: [{ url: `${serverUrl}/api/v1` }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token from npm run token -- create' },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
