import { z } from 'zod';
import { corpInputSchema, corpPatchSchema } from '../../domain/corps/corp.types.js';
import { customerAttributesSchema } from '../../domain/customers/customer-attributes.service.js';
import { ruleBodySchema, ruleCreateSchema } from '../../domain/rules/rule.schema.js';
import { vehicleInputSchema } from '../../domain/vehicles/vehicle-input.js';
import type { Role } from '../../domain/auth/principal.js';
import { auditQuerySchema } from './audit.routes.js';
import { erasureRequestSchema } from '../../domain/privacy/erasure-reasons.js';
import { OPT_OUT_RECORDERS, optOutBodySchema, PRIVACY_ADMINS } from './privacy.routes.js';
import { RULE_AUTHORS, RULE_READERS } from './rules.routes.js';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  roles: readonly Role[];
  body?: z.ZodType;
  query?: z.ZodObject;
  ok: number;
}

/** Every `/api/v1` operation; request schemas are the same zod schemas the routes parse with. */
const operations: Operation[] = [
  { method: 'get', path: '/rules', summary: 'List rules (filter by scope, enabled)', roles: RULE_READERS, ok: 200, query: z.object({ scope: z.string().optional(), enabled: z.enum(['true', 'false']).optional() }) },
  { method: 'post', path: '/rules', summary: 'Create a rule (version 1)', roles: RULE_AUTHORS, body: ruleCreateSchema, ok: 201 },
  { method: 'post', path: '/rules/preview', summary: 'Preview a draft rule without saving or doing anything', roles: RULE_AUTHORS, body: ruleBodySchema, ok: 200, query: z.object({ corpId: z.string().optional() }) },
  { method: 'get', path: '/rules/{id}', summary: 'Get a rule with its version history', roles: RULE_READERS, ok: 200 },
  { method: 'put', path: '/rules/{id}', summary: 'Replace a rule: a new version (If-Match: <version> guards concurrent edits)', roles: RULE_AUTHORS, body: ruleBodySchema, ok: 200 },
  { method: 'post', path: '/rules/{id}/enable', summary: 'Enable (for one-corp principals: only in their corps)', roles: [...RULE_AUTHORS, 'dealer_admin'], ok: 200 },
  { method: 'post', path: '/rules/{id}/disable', summary: 'Disable (a corp switching off an all-corps rule)', roles: [...RULE_AUTHORS, 'dealer_admin'], ok: 200 },
  { method: 'delete', path: '/rules/{id}', summary: 'Delete (soft)', roles: RULE_AUTHORS, ok: 204 },
  { method: 'post', path: '/rules/{id}/preview', summary: 'Preview a stored rule', roles: RULE_AUTHORS, ok: 200, query: z.object({ corpId: z.string().optional() }) },
  { method: 'get', path: '/corps', summary: 'List corps (no secrets)', roles: ['admin'], ok: 200 },
  { method: 'get', path: '/corps/{corpId}', summary: 'Get a corp (no secrets)', roles: ['admin'], ok: 200 },
  { method: 'post', path: '/corps', summary: 'Add a corp (secrets write-only)', roles: ['admin'], body: corpInputSchema, ok: 201 },
  { method: 'patch', path: '/corps/{corpId}', summary: 'Change a corp (secrets write-only)', roles: ['admin'], body: corpPatchSchema, ok: 200 },
  { method: 'get', path: '/audit', summary: 'Audit log, newest first', roles: ['admin'], query: auditQuerySchema, ok: 200 },
  { method: 'post', path: '/vehicles', summary: 'Upsert one vehicle or a batch of up to 1,000', roles: ['admin', 'dealer_admin', 'integration'], body: z.union([vehicleInputSchema.extend({ corpId: z.string() }), z.object({ corpId: z.string(), vehicles: z.array(vehicleInputSchema).max(1000) })]), ok: 200 },
  { method: 'patch', path: '/customers/{id}/attributes', summary: 'Set dealer-supplied attributes (birthday ...)', roles: ['admin', 'dealer_admin', 'integration'], body: customerAttributesSchema, ok: 200 },
  { method: 'delete', path: '/customers/{id}', summary: 'Erase a customer\'s personal data (reason code; audited tombstone)', roles: PRIVACY_ADMINS, body: erasureRequestSchema, ok: 200 },
  { method: 'get', path: '/customers/{id}/export', summary: 'Everything held about a customer, as JSON (audited)', roles: PRIVACY_ADMINS, ok: 200 },
  { method: 'get', path: '/customers/{id}/privacy', summary: 'Opt-out, privacy notice and erasure state of a customer', roles: OPT_OUT_RECORDERS, ok: 200 },
  { method: 'post', path: '/customers/{id}/opt-out', summary: 'Opt a customer out of automated marketing (audited)', roles: OPT_OUT_RECORDERS, body: optOutBodySchema, ok: 200 },
  { method: 'delete', path: '/customers/{id}/opt-out', summary: 'Withdraw an opt-out (audited)', roles: OPT_OUT_RECORDERS, body: optOutBodySchema, ok: 200 },
  { method: 'post', path: '/ops/sweep', summary: 'Run the schedule sweep now (refused in production)', roles: ['admin'], ok: 200 },
];

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } }, required: ['code', 'message'] } },
};

/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the zod schemas the routes validate
 * with (JSON Schema 2020-12 is OpenAPI 3.1's dialect), so the document cannot drift from the code.
 */
export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = op.query ? Object.keys(op.query.shape).map((name) => ({ name, in: 'query', required: false, schema: (jsonSchema(op.query as z.ZodObject).properties as Record<string, unknown>)[name] })) : [];
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      description: `Roles: ${op.roles.join(', ')}. Data is limited to the caller's corps.`,
      'x-roles': op.roles,
      parameters: [...params, ...queryParams],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses: {
        [String(op.ok)]: { description: 'OK' },
        401: { description: 'missing or invalid token', content: { 'application/json': { schema: errorSchema } } },
        403: { description: 'role not allowed or corp outside the token', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'validation problems as { path, message }', content: { 'application/json': { schema: errorSchema } } },
        429: { description: 'rate limited; see Retry-After', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'WeCom dealer SCRM admin API', version: '1' },
    servers: [{ url: `${serverUrl}/api/v1` }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token from npm run token -- create' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
