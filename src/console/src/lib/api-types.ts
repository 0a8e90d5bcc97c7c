/**
 * API shapes, imported from the server's own definitions (type-only: nothing of the server is
 * bundled) so the console cannot drift from /api/v1. JSON turns Dates into strings: `Jsonify`.
 */
import type { ConsoleMe as ServerMe } from '../../../routes/console/console-auth.routes.js';
import type { ApiTask as ServerTask } from '../../../routes/api/task-present.js';
import type { RuleView } from '../../../domain/rules/rule.service.js';
import type { Role } from '../../../domain/auth/principal.js';
import type {
  AnomalyFlag as ServerAnomalyFlag,
  Granularity,
  KpiOverview as ServerKpiOverview,
  KpiRow as ServerKpiRow,
  MetricDefinition as ServerMetricDefinition,
  MetricKey,
  UnitKind,
} from '../../../domain/kpis/kpi-types.js';
import type { CorpSettingsView, corpSettingsPatchSchema } from '../../../routes/api/corp-settings.routes.js';
import type { ApiTokenView, tokenCreateSchema } from '../../../routes/api/tokens.routes.js';
import type { CorpSummary } from '../../../domain/corps/corp.types.js';
import type { z } from 'zod';
import type { RuleListItem } from '../../../domain/rules/rule-hits.js';
import type { CopyWarning, RuleOptions as ServerRuleOptions } from '../../../domain/rules/rule-options.js';
import type { RuleVersionView } from '../../../domain/rules/rule.service.js';
import type { PreviewResult } from '../../../domain/rules/preview.js';
import type { ruleCreateSchema } from '../../../domain/rules/rule.schema.js';
import type { CustomerLabel } from '../../../domain/customers/customer-labels.js';
import type {
  AdvisorOption as ServerAdvisorOption,
  ApiTaskDetail,
  ReassignBulkResult as ServerReassignBulkResult,
} from '../../../routes/api/task-present.js';
import type { CustomerProfile as ServerCustomerProfile } from '../../../domain/customers/customer-profile.js';
import type { CustomerSummary as ServerCustomerSummary } from '../../../domain/customers/customer-search.js';
import type { TimelineItem as ServerTimelineItem } from '../../../domain/customers/customer-timeline.js';
import type { ApiTransfer, transferStartBody } from '../../../routes/api/transfer-present.js';
import type { CustomerSearchKind } from '../../../domain/customers/customer-search.js';

export type Jsonify<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Jsonify<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonify<T[K]> }
      : T;

export type Me = Jsonify<ServerMe>;
export type Task = Jsonify<ServerTask>;
export type Rule = Jsonify<RuleView>;
export type { Role };
export type KpiOverview = Jsonify<ServerKpiOverview>;
export type KpiRow = Jsonify<ServerKpiRow>;
export type AnomalyFlag = Jsonify<ServerAnomalyFlag>;
export type MetricDefinition = Jsonify<ServerMetricDefinition>;
export type { Granularity, MetricKey, UnitKind };
export interface SignInCorp {
  corpId: string;
  displayName: string;
  kind: 'dealer' | 'oem';
}

/** Settings page (docs/console.md): a corp's settings, the patch the page sends, API tokens. */
export type CorpSettings = Jsonify<CorpSettingsView>;
export type CorpSettingsPatch = z.input<typeof corpSettingsPatchSchema>;
export type CorpListItem = Jsonify<CorpSummary>;
export type ApiToken = Jsonify<ApiTokenView>;
export type ApiTokenCreate = z.input<typeof tokenCreateSchema>;

/** Campaigns (docs/console.md): the rule list with hits, a draft as the API accepts it, versions, preview, pickers. */
export type RuleRow = Jsonify<RuleListItem>;
export type RuleDraft = z.input<typeof ruleCreateSchema>;
export type RuleVersion = Jsonify<RuleVersionView>;
export type RulePreview = Jsonify<PreviewResult>;
export type RuleOptions = Jsonify<ServerRuleOptions>;
export type RuleCopyWarning = CopyWarning;

/** Tasks desk, customers and transfers (docs/console.md). */
export type DeskTask = Task & { customer?: CustomerLabel };
export type TaskDetail = Jsonify<ApiTaskDetail>;
export type AdvisorOption = ServerAdvisorOption;
export type ReassignBulkResult = ServerReassignBulkResult;
export type CustomerSummary = ServerCustomerSummary;
export type CustomerProfile = Jsonify<ServerCustomerProfile>;
export type TimelineItem = Jsonify<ServerTimelineItem>;
export type Transfer = Jsonify<ApiTransfer>;
export type TransferStart = z.input<typeof transferStartBody>;
export type { CustomerSearchKind };
