import Router from '@koa/router';
import type { Context } from 'koa';
import { Types } from 'mongoose';
import { z } from 'zod';
import { PERSONAL_DATA_READERS, type Principal } from '../../domain/auth/principal.js';
import {
  customerAttributesSchema,
  updateCustomerAttributes,
} from '../../domain/customers/customer-attributes.service.js';
import { keepVisible, visibleAdvisors } from '../../domain/customers/customer-access.js';
import { customerCorp } from '../../domain/customers/customer-queries.js';
import { loadCustomerProfile } from '../../domain/customers/customer-profile.js';
import {
  customerIdsBehind,
  customerIdsOfAdvisor,
  customerSearchQuery,
  findCustomerIds,
  summarize,
} from '../../domain/customers/customer-search.js';
import { corpTimeZone } from '../../domain/corps/corp-queries.js';
import { dayBounds } from '../../domain/kpis/kpi-days.js';
import { loadCustomerTimeline, TIMELINE_DEFAULT, TIMELINE_MAX } from '../../domain/customers/customer-timeline.js';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { scopedCustomer } from './customer-scope.js';

/** Who may look customers up (the same roles that may record an opt-out): those who read personal data. */
export const CUSTOMER_READERS = PERSONAL_DATA_READERS;

export const timelineQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(TIMELINE_MAX).default(TIMELINE_DEFAULT) })
  .strict();

/** The corp a search acts in: the one named, or a one-corp principal's only corp. */
function searchCorp(p: Principal, named: string | undefined): string {
  const corpId = named ?? (p.corps !== '*' && p.corps.length === 1 ? p.corps[0] : undefined);
  if (!corpId) throw new ValidationError([{ path: '/corpId', message: 'required: which corp to search in' }]);
  assertCorp(p, corpId, 'write');
  return corpId;
}

/** Customer routes of the admin API: search, profile (audited), timeline, attributes. */
export function createCustomersRouter(deps: ApiDeps): Router {
  const router = new Router();
  const reqId = (ctx: Context) => ctx.state.reqId as string | undefined;

  /** [from, to] as corp-local days (both inclusive, as the cockpit's drill-down links write them) in instants. */
  async function localDays(corpId: string, from: string, to: string): Promise<{ start: Date; end: Date }> {
    const zone = await corpTimeZone(corpId, deps.config.defaultTimezone);
    return { start: dayBounds(from, zone).start, end: dayBounds(to, zone).end };
  }

  /**
   * Exact-match search through the keyed-hash index (sealed fields have no substring search), or
   * the customers an advisor actively follows. Answers names, so it is audited (kind and count only).
   */
  async function findCustomers(ctx: Context, input: unknown): Promise<void> {
    const p = principalOf(ctx);
    const q = parseOrThrow(customerSearchQuery, input);
    const corpId = searchCorp(p, q.corpId);
    const advisors = await visibleAdvisors(p);
    if (q.advisor && advisors && !advisors.includes(q.advisor))
      throw new NotFoundError(`no advisor ${q.advisor} in your team`, 'advisor_not_found');
    const ids =
      (q.status || q.lifecycle) && q.from && q.to
        ? await customerIdsBehind(
            corpId,
            q.advisor,
            q.status === 'lost' ? 'lost' : 'owner',
            await localDays(corpId, q.from, q.to),
          )
        : q.advisor
          ? await customerIdsOfAdvisor(corpId, q.advisor)
          : await findCustomerIds(deps.pd, corpId, q.by, q.q ?? '');
    const customers = await summarize(deps.pd, corpId, ids, (rows) => keepVisible(corpId, rows, advisors));
    await recordAudit({
      actor: p,
      action: q.advisor || q.status || q.lifecycle ? 'customer.list' : 'customer.search',
      target: { type: 'customer', corpId },
      requestId: reqId(ctx),
      at: deps.clock.now(),
      detail: { by: q.status ?? q.lifecycle ?? (q.advisor ? 'advisor' : q.by), results: customers.length },
    });
    ctx.body = { customers };
  }

  /**
   * `POST /api/v1/customers/search {corpId?, by: name|remark|phone|vin, q}`: the search term is a
   * name, a remark or a phone number, so it travels in the body, never in a URL that proxies,
   * access logs and browser history keep.
   */
  router.post('/customers/search', async function searchCustomers(ctx) {
    await findCustomers(ctx, bodyOf(ctx) ?? {});
  });

  /**
   * `GET /api/v1/customers?corpId&advisor=<userid>`: the customers an advisor actively follows
   * (transfers); with `status=lost` or `lifecycle=owner` and `from`/`to`, the customers behind a
   * cockpit number (its drill-down links).
   */
  router.get('/customers', async function listCustomers(ctx) {
    if (ctx.query.q !== undefined)
      throw new ValidationError([
        {
          path: '/q',
          message:
            'send search terms in the body of POST /api/v1/customers/search, so names and phone numbers stay out of URLs and access logs',
        },
      ]);
    await findCustomers(ctx, ctx.query);
  });

  /** `GET /api/v1/customers/:id`: the profile; a read of personal data, audited before it is answered. */
  router.get('/customers/:id', async function customerProfile(ctx) {
    const p = principalOf(ctx);
    const customer = await scopedCustomer(ctx, p);
    await recordAudit({
      actor: p,
      action: 'customer.read',
      target: { type: 'customer', id: String(customer._id), corpId: customer.corpId },
      requestId: reqId(ctx),
      at: deps.clock.now(),
    });
    const profile = await loadCustomerProfile(deps.pd, customer.corpId, customer._id);
    if (!profile) throw new NotFoundError(`no customer ${String(customer._id)}`, 'customer_not_found');
    ctx.body = profile;
  });

  /** `GET /api/v1/customers/:id/timeline?limit=`: events, tasks, planned follow-ups and messages, newest first (ids and codes only). */
  router.get('/customers/:id/timeline', async function customerTimeline(ctx) {
    const { limit } = parseOrThrow(timelineQuery, ctx.query);
    const customer = await scopedCustomer(ctx, principalOf(ctx));
    ctx.body = { items: await loadCustomerTimeline(customer.corpId, customer._id, limit) };
  });

  /**
   * `PATCH /api/v1/customers/:id/attributes`: birthday, preferred contact time, DMS notes (`null`
   * clears). Personal values are sealed; a changed birthday emits `customer.anchor_changed`.
   */
  router.patch('/customers/:id/attributes', async function patchAttributes(ctx) {
    const id = ctx.params.id ?? '';
    if (!Types.ObjectId.isValid(id)) throw new NotFoundError(`no customer ${id}`, 'customer_not_found');
    const attrs = parseOrThrow(customerAttributesSchema, (ctx.request as unknown as { body?: unknown }).body ?? {});
    const customer = await customerCorp(id);
    if (!customer) throw new NotFoundError(`no customer ${id}`, 'customer_not_found');
    const principal = principalOf(ctx);
    assertCorp(principal, customer.corpId, 'read'); // another corp's customer is a 404, like a missing one
    const { changed } = await updateCustomerAttributes(
      { corpId: customer.corpId, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() },
      customer._id,
      attrs,
    );
    await recordAudit({
      actor: principal,
      action: 'customer.update_attributes',
      target: { type: 'customer', id, corpId: customer.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { fields: changed },
      at: deps.clock.now(),
    });
    ctx.body = { id, changed };
  });
  return router;
}

export type { CustomerSummary } from '../../domain/customers/customer-search.js';
export type { CustomerProfile } from '../../domain/customers/customer-profile.js';
export type { TimelineItem } from '../../domain/customers/customer-timeline.js';
