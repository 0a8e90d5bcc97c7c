import type { Role } from '../../domain/auth/principal.js';
import { BROADCAST_APPROVERS, BROADCAST_AUTHORS, BROADCAST_READERS } from '../api/broadcasts.routes.js';
import { CHANNEL_QR_READERS, CHANNEL_READERS, CHANNEL_WRITERS } from '../api/channels.routes.js';
import { MOMENT_AUTHORS, MOMENT_READERS } from '../api/moments.routes.js';
import {
  LEAD_MANAGERS,
  LEAD_READERS,
  LEAD_SALE_RECORDERS,
  LEAD_SETTINGS_ROLES,
  LEAD_WORKERS,
  LEAD_WRITERS,
} from '../api/leads.routes.js';
import { CONTENT_AUTHORS, CONTENT_READERS } from '../api/content.routes.js';
import { SEGMENT_AUTHORS, SEGMENT_READERS } from '../api/segments.routes.js';
import { CUSTOMER_READERS } from '../api/customers.routes.js';
import { GROUP_READERS, GROUP_WRITERS } from '../api/groups.routes.js';
import { KPI_READERS } from '../api/kpis.routes.js';
import { OUTCOME_READERS, OUTCOME_WRITERS } from '../api/outcomes.routes.js';
import { OPT_OUT_RECORDERS, PRIVACY_ADMINS } from '../api/privacy.routes.js';
import { RULE_AUTHORS, RULE_READERS } from '../api/rules.routes.js';
import { SIDEBAR_READERS } from '../api/sidebar.routes.js';
import { SETTINGS_ROLES } from '../api/corp-settings.routes.js';
import { TASK_READERS, TASK_REASSIGNERS, TASK_WORKERS } from '../api/tasks.routes.js';
import { TRANSFER_READERS, TRANSFER_STARTERS } from '../api/transfers.routes.js';

/**
 * How a route narrows what a principal reaches (docs/security.md, "Policy table"):
 * - `corp`: `scoped` = only the principal's corps (all-corps roles: every corp); an object of
 *   another corp answers 404 like a missing one, a write naming another corp 403. `none` = the
 *   route reads or writes nothing of a corp (definitions, the principal's own session).
 *   `platform` = operator data across corps (corps, tokens, audit, dev operations; admins only).
 * - `team`: managers see what advisors of the departments they lead own; advisors what they own
 *   (their tasks, the customers they follow or are responsible for). Absent = the whole corp.
 * - `personalData`: the answer carries customer personal data (names, mobiles, VINs, task cards).
 */
export interface RoutePolicy {
  /** Roles that may call it; `public` needs no principal (sign-in, the OpenAPI document). */
  roles: readonly Role[] | 'public';
  corp: 'scoped' | 'none' | 'platform';
  team?: 'department_and_advisor' | 'department';
  personalData?: boolean;
  /** One line for docs/security.md. */
  what: string;
}

const ADMIN: readonly Role[] = ['admin'];
const VEHICLE_WRITERS: readonly Role[] = ['admin', 'dealer_admin', 'integration'];
const MEDIA_WRITERS: readonly Role[] = ['admin', 'oem', 'marketing', 'dealer_admin'];
const MEDIA_READERS: readonly Role[] = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'];
/** Marketing picks the advisors behind a channel code (docs/acquisition.md "Channel codes"). */
const ADVISOR_PICKERS: readonly Role[] = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'];
const RULE_SWITCHERS: readonly Role[] = [...RULE_AUTHORS, 'dealer_admin'];

/**
 * Every route of `/api/v1` and `/console/auth`, keyed `METHOD /path` as the router registers it.
 * The routers take their authorization from here (route-policy.ts): a route without an entry, or
 * an entry without a route, stops the web process at start.
 */
export const ROUTE_POLICIES: Readonly<Record<string, RoutePolicy>> = {
  'GET /api/v1/openapi.json': { roles: 'public', corp: 'none', what: 'The OpenAPI document (no data)' },

  'POST /api/v1/vehicles': {
    roles: VEHICLE_WRITERS,
    corp: 'scoped',
    personalData: true,
    what: 'Upsert vehicles from the DMS',
  },

  'POST /api/v1/outcomes': {
    roles: OUTCOME_WRITERS,
    corp: 'scoped',
    personalData: true,
    what: 'Upsert DMS outcomes (appointments, repair orders, policies, sales)',
  },
  'GET /api/v1/kpis/outcomes': {
    roles: KPI_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Result KPIs by advisor, department, dealer or car maker: return, first-maintenance, renewal, booked→arrived, no-shows, connectable, dormant, funnel (aggregates)',
  },
  'GET /api/v1/outcomes/unreachable-owners': {
    roles: OUTCOME_READERS,
    corp: 'scoped',
    personalData: true,
    what: 'DMS vehicles whose owner is not reachable on WeCom (VINs, sales advisor)',
  },
  'GET /api/v1/campaigns/:ruleId/report': {
    roles: OUTCOME_READERS,
    corp: 'scoped',
    what: 'Holdout campaign report: treated vs held out, uplift with its interval (aggregates)',
  },
  'GET /api/v1/outcomes/unmatched': {
    roles: OUTCOME_READERS,
    corp: 'scoped',
    personalData: true,
    what: 'Outcomes whose owner the bot does not know (VINs)',
  },

  'POST /api/v1/customers/search': {
    roles: CUSTOMER_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'Exact-match customer search (audited)',
  },
  'GET /api/v1/customers': {
    roles: CUSTOMER_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'Customers of an advisor or behind a cockpit number (audited)',
  },
  'GET /api/v1/customers/:id': {
    roles: CUSTOMER_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'Customer profile (audited)',
  },
  'GET /api/v1/customers/:id/timeline': {
    roles: CUSTOMER_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Customer timeline (ids and codes)',
  },
  'PATCH /api/v1/customers/:id/attributes': {
    roles: VEHICLE_WRITERS,
    corp: 'scoped',
    personalData: true,
    what: 'Birthday, contact time, DMS notes',
  },
  'DELETE /api/v1/customers/:id': {
    roles: PRIVACY_ADMINS,
    corp: 'scoped',
    personalData: true,
    what: 'Erase a customer (audited)',
  },
  'GET /api/v1/customers/:id/export': {
    roles: PRIVACY_ADMINS,
    corp: 'scoped',
    personalData: true,
    what: 'Export everything about a customer (audited)',
  },
  'GET /api/v1/customers/:id/privacy': {
    roles: OPT_OUT_RECORDERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Opt-out and notice state',
  },
  'POST /api/v1/customers/:id/opt-out': {
    roles: OPT_OUT_RECORDERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Record an opt-out',
  },
  'DELETE /api/v1/customers/:id/opt-out': {
    roles: OPT_OUT_RECORDERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Undo an opt-out',
  },

  'GET /api/v1/sidebar/customer': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: "The chat sidebar's customer view: only customers with an active relationship (audited; refusals too)",
  },
  'POST /api/v1/sidebar/sends': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Record a message sent into the chat from the sidebar (a touch; audited)',
  },
  'GET /api/v1/sidebar/group': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    personalData: true,
    what: 'The chat sidebar in a customer group: only for its owner, admins and staff members (audited; refusals too)',
  },
  'GET /api/v1/sidebar/note': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: "The advisor's note about a customer (their own, else the responsible advisor's; audited)",
  },
  'PUT /api/v1/sidebar/note': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: "Write the signed-in advisor's own note about a customer they follow (sealed; audited without the text)",
  },
  'GET /api/v1/sidebar/jsapi-config': {
    roles: SIDEBAR_READERS,
    corp: 'scoped',
    what: 'JS-SDK signatures for a console page (tickets stay on the server)',
  },
  'POST /api/v1/broadcasts': {
    roles: BROADCAST_AUTHORS,
    corp: 'scoped',
    what: 'Create a broadcast waiting for approval; the car maker pushes one copy per dealer (audited)',
  },
  'GET /api/v1/broadcasts': { roles: BROADCAST_READERS, corp: 'scoped', what: 'List broadcasts' },
  'POST /api/v1/broadcasts/preview': {
    roles: BROADCAST_AUTHORS,
    corp: 'scoped',
    what: 'Preview a draft broadcast: customers and groups per advisor, exclusions and why (counts only)',
  },
  'GET /api/v1/broadcasts/:id': {
    roles: BROADCAST_READERS,
    corp: 'scoped',
    what: 'A broadcast with its progress per advisor (counts, reasons in words)',
  },
  'GET /api/v1/broadcasts/:id/report': {
    roles: BROADCAST_READERS,
    corp: 'scoped',
    what: 'Holdout report of a broadcast: treated vs held out, uplift with its interval (aggregates)',
  },
  'POST /api/v1/broadcasts/:id/preview': {
    roles: BROADCAST_READERS,
    corp: 'scoped',
    what: 'Preview a stored broadcast as it would be sent now (counts only)',
  },
  'POST /api/v1/broadcasts/:id/approve': {
    roles: BROADCAST_APPROVERS,
    corp: 'scoped',
    what: "Approve a dealer's broadcast (not its author; audited)",
  },
  'POST /api/v1/broadcasts/:id/reject': {
    roles: BROADCAST_APPROVERS,
    corp: 'scoped',
    what: "Reject a dealer's broadcast (audited)",
  },
  'POST /api/v1/broadcasts/:id/cancel': {
    roles: [...BROADCAST_AUTHORS, 'manager'],
    corp: 'scoped',
    what: 'Cancel a broadcast; unconfirmed WeCom tasks are cancelled by the worker (audited)',
  },
  'GET /api/v1/segments': {
    roles: SEGMENT_READERS,
    corp: 'scoped',
    what: "Saved segments (name and the rules' conditions; no personal data)",
  },
  'POST /api/v1/segments': {
    roles: SEGMENT_AUTHORS,
    corp: 'scoped',
    what: "Save a segment: a name unique in the corp and the rules' conditions (audited)",
  },
  'GET /api/v1/segments/:id': { roles: SEGMENT_READERS, corp: 'scoped', what: 'One saved segment' },
  'PUT /api/v1/segments/:id': {
    roles: SEGMENT_AUTHORS,
    corp: 'scoped',
    what: 'Rename a saved segment or change its conditions (audited)',
  },
  'DELETE /api/v1/segments/:id': {
    roles: SEGMENT_AUTHORS,
    corp: 'scoped',
    what: 'Delete a saved segment (soft; refused while an unsent broadcast names it; audited)',
  },
  'POST /api/v1/moments': {
    roles: MOMENT_AUTHORS,
    corp: 'scoped',
    what: 'Create a Moments task for chosen advisors; created in WeCom by the worker (audited)',
  },
  'GET /api/v1/moments': { roles: MOMENT_READERS, corp: 'scoped', what: 'List Moments tasks with publish counts' },
  'GET /api/v1/moments/:id': {
    roles: MOMENT_READERS,
    corp: 'scoped',
    what: 'A Moments task: who published, reach counts, who was reminded',
  },
  'GET /api/v1/kpis/moments': {
    roles: MOMENT_READERS,
    corp: 'scoped',
    what: 'Moments tasks in a period and the share of advisors who published',
  },
  'GET /api/v1/content': {
    roles: CONTENT_READERS,
    corp: 'scoped',
    what: "The content library: the car maker's items and the caller's corps' (templates, no personal data)",
  },
  'POST /api/v1/content': {
    roles: CONTENT_AUTHORS,
    corp: 'scoped',
    what: 'Add a content-library item (all dealers: car maker and admin only; audited)',
  },
  'GET /api/v1/content/:id': { roles: CONTENT_READERS, corp: 'scoped', what: 'One content-library item' },
  'PUT /api/v1/content/:id': {
    roles: CONTENT_AUTHORS,
    corp: 'scoped',
    what: 'Replace a content-library item (audited)',
  },
  'DELETE /api/v1/content/:id': {
    roles: CONTENT_AUTHORS,
    corp: 'scoped',
    what: 'Delete a content-library item (soft; sends that named it keep the id; audited)',
  },
  'GET /api/v1/groups': {
    roles: GROUP_READERS,
    corp: 'scoped',
    what: 'Customer groups (counts, owner, purpose; no member ids)',
  },
  'GET /api/v1/groups/kpis': {
    roles: GROUP_READERS,
    corp: 'scoped',
    what: 'Owner-group KPIs: members, joins/quits, owners in groups, active groups',
  },
  'GET /api/v1/groups/:chatId': {
    roles: GROUP_READERS,
    corp: 'scoped',
    personalData: true,
    what: 'A customer group with its member ids',
  },
  'PATCH /api/v1/groups/:chatId': {
    roles: GROUP_WRITERS,
    corp: 'scoped',
    what: "Set a group's purpose tags (audited)",
  },
  'GET /api/v1/group-welcome-templates': {
    roles: GROUP_READERS,
    corp: 'scoped',
    what: 'Group welcome templates and their WeCom sync state',
  },
  'POST /api/v1/group-welcome-templates': {
    roles: GROUP_WRITERS,
    corp: 'scoped',
    what: 'Add a group welcome template (pushed to WeCom by the worker)',
  },
  'PUT /api/v1/group-welcome-templates/:id': {
    roles: GROUP_WRITERS,
    corp: 'scoped',
    what: 'Edit a group welcome template',
  },
  'DELETE /api/v1/group-welcome-templates/:id': {
    roles: GROUP_WRITERS,
    corp: 'scoped',
    what: 'Delete a group welcome template (also in WeCom)',
  },

  'GET /api/v1/rules': {
    roles: RULE_READERS,
    corp: 'scoped',
    what: "List rules: all-corps rules and the caller's corps' rules",
  },
  'GET /api/v1/rules/options': { roles: RULE_READERS, corp: 'scoped', what: 'Rule form pickers' },
  'POST /api/v1/rules': {
    roles: RULE_AUTHORS,
    corp: 'scoped',
    what: 'Create a rule (all-corps rules start disabled: four eyes)',
  },
  'POST /api/v1/rules/preview': {
    roles: RULE_AUTHORS,
    corp: 'scoped',
    what: 'Preview a draft (counts and one example by id)',
  },
  'GET /api/v1/rules/:id': { roles: RULE_READERS, corp: 'scoped', what: 'One rule with versions' },
  'GET /api/v1/rules/:id/versions': { roles: RULE_READERS, corp: 'scoped', what: 'Versions of a rule' },
  'POST /api/v1/rules/:id/duplicate': {
    roles: RULE_AUTHORS,
    corp: 'scoped',
    what: "Copy a rule into another of the caller's corps",
  },
  'PUT /api/v1/rules/:id': {
    roles: RULE_AUTHORS,
    corp: 'scoped',
    what: 'New version (a live all-corps rule pauses for approval)',
  },
  'POST /api/v1/rules/:id/enable': {
    roles: RULE_SWITCHERS,
    corp: 'scoped',
    what: "Enable; all-corps rules: propose, or approve another person's proposal",
  },
  'POST /api/v1/rules/:id/disable': {
    roles: RULE_SWITCHERS,
    corp: 'scoped',
    what: 'Disable (a dealer: for its corps only)',
  },
  'DELETE /api/v1/rules/:id': { roles: RULE_AUTHORS, corp: 'scoped', what: 'Soft-delete a rule' },
  'POST /api/v1/rules/:id/preview': { roles: RULE_AUTHORS, corp: 'scoped', what: 'Preview a stored rule' },

  'GET /api/v1/corps': { roles: ADMIN, corp: 'platform', what: 'List corps (no secrets)' },
  'GET /api/v1/corps/:corpId': { roles: ADMIN, corp: 'platform', what: 'One corp (no secrets)' },
  'POST /api/v1/corps': { roles: ADMIN, corp: 'platform', what: 'Add a corp' },
  'PATCH /api/v1/corps/:corpId': { roles: ADMIN, corp: 'platform', what: 'Change a corp' },
  'GET /api/v1/corps/:corpId/settings': {
    roles: SETTINGS_ROLES,
    corp: 'scoped',
    what: 'Corp settings (secrets as set / not set)',
  },
  'PATCH /api/v1/corps/:corpId/settings': {
    roles: SETTINGS_ROLES,
    corp: 'scoped',
    what: 'Change corp settings (admins only: enabled, admins list)',
  },

  'GET /api/v1/tokens': { roles: ADMIN, corp: 'platform', what: 'List API tokens' },
  'POST /api/v1/tokens': { roles: ADMIN, corp: 'platform', what: 'Create an API token' },
  'DELETE /api/v1/tokens/:tokenId': { roles: ADMIN, corp: 'platform', what: 'Revoke an API token' },
  'GET /api/v1/audit': { roles: ADMIN, corp: 'platform', what: 'The audit log' },
  'POST /api/v1/ops/sweep': {
    roles: ADMIN,
    corp: 'platform',
    what: 'Run the schedule sweep now (refused in production)',
  },
  'POST /api/v1/ops/tick': { roles: ADMIN, corp: 'platform', what: 'Run the task tick now (refused in production)' },
  'POST /api/v1/ops/kpis': {
    roles: ADMIN,
    corp: 'platform',
    what: 'Run the cockpit rollup now (refused in production)',
  },
  'POST /api/v1/ops/broadcasts': {
    roles: ADMIN,
    corp: 'platform',
    what: 'Run the broadcast tick now (refused in production)',
  },
  'POST /api/v1/ops/moments': {
    roles: ADMIN,
    corp: 'platform',
    what: 'Run the Moments tick now (refused in production)',
  },
  'GET /api/v1/ops/clock': { roles: ADMIN, corp: 'platform', what: 'Read the shared development clock' },
  'POST /api/v1/ops/clock': {
    roles: ADMIN,
    corp: 'platform',
    what: 'Move the development clock (refused in production)',
  },

  'POST /api/v1/media': {
    roles: MEDIA_WRITERS,
    corp: 'scoped',
    what: 'Upload an image (all-corps images: all-corps roles)',
  },
  'GET /api/v1/media/:id': { roles: MEDIA_READERS, corp: 'scoped', what: 'Describe an image' },

  'GET /api/v1/tasks': {
    roles: TASK_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'List tasks (include=customer: names, audited)',
  },
  'GET /api/v1/tasks.csv': {
    roles: TASK_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Tasks as CSV (no customer data)',
  },
  'GET /api/v1/advisors': {
    roles: ADVISOR_PICKERS,
    corp: 'scoped',
    team: 'department',
    what: 'Members for pickers (work names)',
  },
  'POST /api/v1/tasks/reassign-bulk': {
    roles: TASK_REASSIGNERS,
    corp: 'scoped',
    team: 'department',
    what: 'Move open tasks between advisors',
  },
  'GET /api/v1/tasks/:id': {
    roles: TASK_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'One task with its card (audited)',
  },
  'POST /api/v1/tasks/:id/complete': {
    roles: TASK_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Complete a task',
  },
  'POST /api/v1/tasks/:id/snooze': {
    roles: TASK_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Snooze a task',
  },
  'POST /api/v1/tasks/:id/unreachable': {
    roles: TASK_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Mark a task unreachable',
  },
  'POST /api/v1/tasks/:id/reassign': {
    roles: TASK_REASSIGNERS,
    corp: 'scoped',
    team: 'department',
    what: 'Reassign a task',
  },

  'POST /api/v1/channels': {
    roles: CHANNEL_WRITERS,
    corp: 'scoped',
    what: 'Create a channel QR code (WeCom contact way made by the worker)',
  },
  'GET /api/v1/channels': {
    roles: CHANNEL_QR_READERS,
    corp: 'scoped',
    what: 'List channel codes (advisors: the codes they are on)',
  },
  'GET /api/v1/channels/kpis': {
    roles: CHANNEL_READERS,
    corp: 'scoped',
    what: 'Channel KPIs and unknown-channel adds',
  },
  'GET /api/v1/channels/:id': { roles: CHANNEL_READERS, corp: 'scoped', what: 'One channel code' },
  'GET /api/v1/channels/:id/qr.png': {
    roles: CHANNEL_QR_READERS,
    corp: 'scoped',
    what: "A channel's QR image, fetched from WeCom's CDN for printing (advisors: their own codes)",
  },
  'PATCH /api/v1/channels/:id': {
    roles: CHANNEL_WRITERS,
    corp: 'scoped',
    what: 'Edit a channel (WeCom updated with the whole object)',
  },
  'DELETE /api/v1/channels/:id': {
    roles: CHANNEL_WRITERS,
    corp: 'scoped',
    what: 'Delete a channel and its WeCom contact way',
  },

  'POST /api/v1/leads': {
    roles: LEAD_WRITERS,
    corp: 'scoped',
    personalData: true,
    what: 'Lead intake, single or batch (de-duplicated, routed)',
  },
  'GET /api/v1/leads': {
    roles: LEAD_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'Lead board and advisor list (audited)',
  },
  'GET /api/v1/leads/kpis': {
    roles: LEAD_READERS,
    corp: 'scoped',
    personalData: true,
    what: 'Lead KPIs and uncontacted leads by name',
  },
  'GET /api/v1/leads/settings': { roles: LEAD_READERS, corp: 'scoped', what: 'Lead routing and SLA settings' },
  'PUT /api/v1/leads/settings': { roles: LEAD_SETTINGS_ROLES, corp: 'scoped', what: 'Set lead routing rules and SLA' },
  'PUT /api/v1/leads/availability/:userid': {
    roles: LEAD_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Advisor shift, leave, lead cap, on duty',
  },
  'GET /api/v1/leads/:id': {
    roles: LEAD_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    personalData: true,
    what: 'One lead with name and mobile (audited)',
  },
  'POST /api/v1/leads/:id/contacted': {
    roles: LEAD_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Record first contact',
  },
  'POST /api/v1/leads/:id/stage': {
    roles: LEAD_WORKERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Move a lead to a stage, or lost with a reason',
  },
  'POST /api/v1/leads/:id/sale': {
    roles: LEAD_SALE_RECORDERS,
    corp: 'scoped',
    team: 'department',
    what: 'Record a sale: lead won, customer becomes an owner',
  },
  'POST /api/v1/leads/:id/assign': {
    roles: LEAD_MANAGERS,
    corp: 'scoped',
    team: 'department',
    what: 'Reassign a lead (fresh SLA and card)',
  },

  'POST /api/v1/transfers': {
    roles: TRANSFER_STARTERS,
    corp: 'scoped',
    team: 'department',
    what: 'Start a customer transfer through WeCom',
  },
  'GET /api/v1/transfers': {
    roles: TRANSFER_READERS,
    corp: 'scoped',
    team: 'department',
    what: 'List transfers (?corpId narrows)',
  },
  'GET /api/v1/transfers/:id': {
    roles: TRANSFER_READERS,
    corp: 'scoped',
    team: 'department',
    what: 'One transfer with per-customer results',
  },

  'GET /api/v1/kpis/tasks': {
    roles: KPI_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Task KPIs (aggregates)',
  },
  'GET /api/v1/kpis/definitions': { roles: KPI_READERS, corp: 'none', what: 'Metric definitions' },
  'GET /api/v1/kpis/overview': {
    roles: KPI_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Cockpit figures (aggregates)',
  },
  'GET /api/v1/kpis/overview.csv': {
    roles: KPI_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Cockpit figures as CSV',
  },
  'GET /api/v1/kpis/anomalies': {
    roles: KPI_READERS,
    corp: 'scoped',
    team: 'department_and_advisor',
    what: 'Weekly anomaly flags',
  },

  'POST /webhooks/dms/:corpId': {
    roles: 'public',
    corp: 'none',
    personalData: true,
    what: 'DMS outcome push, authenticated by its Standard Webhooks signature (per-corp secret)',
  },
  'POST /webhooks/leads/:corpId': {
    roles: 'public',
    corp: 'none',
    personalData: true,
    what: 'Lead push from a platform, authenticated by its Standard Webhooks signature (per-corp secret, source leads)',
  },

  'GET /console/dev/jssdk-standin.js': {
    roles: 'public',
    corp: 'none',
    what: 'The JS-SDK stand-in script for development (404 in production)',
  },
  'GET /console/dev/jssdk/:op': {
    roles: 'public',
    corp: 'none',
    what: 'Stand-in JS-SDK calls, forwarded to the WeCom sandbox for the signed-in member (404 in production)',
  },
  'POST /console/dev/jssdk/:op': {
    roles: 'public',
    corp: 'none',
    what: 'Stand-in JS-SDK calls, forwarded to the WeCom sandbox for the signed-in member (404 in production)',
  },
  'GET /console/auth/corps': {
    roles: 'public',
    corp: 'none',
    what: 'Enabled corps for the sign-in picker (id, name, kind)',
  },
  'GET /console/auth/login': { roles: 'public', corp: 'none', what: 'Redirect to WeCom sign-in' },
  'GET /console/auth/callback': {
    roles: 'public',
    corp: 'none',
    what: 'WeCom sign-in callback: maps the member to a role',
  },
  'POST /console/auth/token': { roles: 'public', corp: 'none', what: 'Sign in with an API token' },
  'POST /console/auth/logout': { roles: 'public', corp: 'none', what: 'End the session (CSRF token required)' },
  'GET /console/auth/me': { roles: 'public', corp: 'none', what: "The session's principal (re-validated)" },
};
