import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import mongoose, { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebServer } from '../../app.js';
import { closeServer } from '../../infra/http-server.js';
import { ManualClock } from '../../infra/clock.js';
import { testConfig } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { routeKeys } from '../policy/route-policy.js';
import type { ApiDeps } from './api-deps.js';
import { createApiRouter } from './api.router.js';
import { BOOTSTRAP, CORP_A, startApiHarness } from './api.test-support.js';

/*
 * Hostile input against every /api/v1 route, in the spirit of the callback endpoint's hostile test
 * (src/routes/callback.hostile.test.ts): invalid JSON, wrong types, 1 MB strings, unknown fields,
 * MongoDB operator objects in ids, bodies and query strings, __proto__ keys and very deep objects.
 * Every answer is a documented 4xx (never a 5xx) and nothing is stored.
 */

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
let dealerAdmin: string;
/** The API served as production serves it (createWebServer), so unparseable requests meet its clientError handling. */
let server: Server;
let base: string;

/** The 4xx answers the API documents (README, docs/security.md). */
const DOCUMENTED = [400, 401, 403, 404, 405, 409, 413, 415, 422];
/** Operations that read no input: they only enqueue the sweep, a tick or the rollup. */
const NO_INPUT = new Set(['sweep', 'tick', 'kpis', 'broadcasts', 'moments'].map((op) => `/api/v1/ops/${op}`));
const MB = 'x'.repeat(1024 * 1024);
const OPERATOR_IDS = ['{"$ne":null}', '%7B%22%24ne%22%3Anull%7D', '[$ne]', '$where', 'a'.repeat(5000)];
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const HOSTILE_BODIES: Array<[string, string]> = [
  ['invalid JSON', '{"corpId": "x", '],
  ['an array', '[1,2,3]'],
  ['a string', '"hello"'],
  ['a number', '42'],
  ['null', 'null'],
  [
    'wrong types',
    JSON.stringify({
      corpId: 42,
      scope: true,
      role: ['admin'],
      to: { x: 1 },
      outcome: 7,
      token: 1,
      name: [],
      trigger: 'x',
      actions: 'x',
      reason: 1,
      vehicles: 'x',
      days: 'many',
    }),
  ],
  [
    '1 MB strings',
    JSON.stringify({
      corpId: MB,
      scope: MB,
      name: MB,
      vin: MB,
      q: MB,
      to: MB,
      filename: MB,
      label: MB,
      displayName: MB,
      reason: MB,
    }),
  ],
  [
    'operator objects',
    JSON.stringify({
      corpId: { $ne: null },
      scope: { $gt: '' },
      to: { $ne: null },
      fromAdvisor: { $ne: null },
      handoverUserid: { $ne: null },
      taskIds: [{ $ne: null }],
      vin: { $regex: '.*' },
      q: { $ne: null },
    }),
  ],
  [
    '__proto__ keys',
    '{"__proto__": {"role": "admin", "corps": "*", "isAdmin": true}, "constructor": {"prototype": {"polluted": 1}}, "corpId": {"__proto__": {"x": 1}}}',
  ],
  ['a very deep object', deep(20_000)],
  ['unknown fields only', JSON.stringify({ unknownField: 1, $where: 'sleep(1000)' })],
];

const HOSTILE_QUERIES = [
  'corpId[$ne]=&advisor[$gt]=',
  'corpId=%7B%22%24ne%22%3Anull%7D',
  'corpId=a&corpId=b',
  `corpId=${'x'.repeat(100_000)}`,
  '__proto__[role]=admin&constructor[prototype][x]=1',
  'limit=-1&before=zzz&department=abc&from=yesterday&to=%00',
  'week=2026-13-45&granularity=$where',
];

/** Every route of the real router, as METHOD and path template. */
function routes(): Array<{ method: string; path: string }> {
  const api = createApiRouter({
    config: testConfig(),
    clock: new ManualClock(),
    queues: {},
    pd: {},
    redis: {},
    corpService: {},
  } as unknown as ApiDeps);
  return routeKeys(api).map((k) => {
    const [method = 'GET', path = ''] = k.split(' ');
    return { method, path };
  });
}

/** What every model holds, to prove hostile requests stored nothing. */
async function snapshot(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const model of Object.values(mongoose.models))
    counts[model.collection.collectionName] = await model.countDocuments({});
  return counts;
}

async function call(method: string, path: string, token: string, body?: string) {
  const r = request(base)[method.toLowerCase() as 'get'](path).set('Authorization', `Bearer ${token}`);
  return body === undefined ? r : r.set('Content-Type', 'application/json').send(body);
}

beforeAll(async () => {
  db = await useTestDatabase('api-hostile');
  h = await startApiHarness({ API_RATE_LIMIT_PER_MINUTE: '1000000' });
  dealerAdmin = await h.token('dealer_admin', [CORP_A]);
  server = createWebServer(h.app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  if (server) await closeServer(server);
  await h?.close();
  await db?.drop();
});

describe('the API under hostile input', () => {
  it('answers every route × hostile body and id with a documented 4xx, never a 5xx, and stores nothing', async () => {
    const before = await snapshot();
    const problems: string[] = [];
    const id = new Types.ObjectId().toHexString();
    for (const { method, path } of routes()) {
      if (NO_INPUT.has(path)) continue; // take no input; they only run the sweep, a tick or the rollup
      const ids = [id, ...OPERATOR_IDS];
      for (const token of [BOOTSTRAP, dealerAdmin]) {
        // Hostile ids as the admin (who passes every role check); the dealer admin's scope checks with a plain id.
        for (const idValue of path.includes(':') && token === BOOTSTRAP ? ids : [id]) {
          const target = path.replace(/:(\w+)/g, (_m, name: string) =>
            name === 'corpId' && idValue === id ? CORP_A : encodeURIComponent(idValue),
          );
          // Every hostile body with a plain id; hostile ids with one operator body.
          const bodies =
            method === 'GET'
              ? [undefined]
              : idValue === id
                ? HOSTILE_BODIES.map(([, b]) => b)
                : [HOSTILE_BODIES[7]?.[1] ?? '{}'];
          for (const body of bodies) {
            const res = await call(method, target, token, body);
            if (!DOCUMENTED.includes(res.status) && !(method === 'GET' && res.status === 200))
              problems.push(
                `${method} ${target.slice(0, 80)} ${body?.slice(0, 40) ?? ''} → ${res.status} ${res.text.slice(0, 160)}`,
              );
            if (res.status < 500 && res.status >= 400 && !res.body?.error?.code)
              problems.push(`${method} ${target.slice(0, 80)} → ${res.status} without { error: { code } }`);
          }
        }
        if (method === 'GET') {
          for (const query of HOSTILE_QUERIES) {
            const res = await call(
              method,
              `${path.replace(/:(\w+)/g, (_m, name: string) => (name === 'corpId' ? CORP_A : id))}?${query}`,
              token,
            );
            if (res.status >= 500)
              problems.push(`${method} ${path}?${query.slice(0, 60)} → ${res.status} ${res.text.slice(0, 160)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  }, 600_000);

  it('refuses unknown fields next to valid ones with 422 naming them', async () => {
    const before = await snapshot();
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/tokens', { role: 'advisor', corps: [CORP_A], userid: 'zhangwei', isAdmin: true }],
      [
        'POST',
        '/api/v1/transfers',
        { corpId: CORP_A, kind: 'in_service', handoverUserid: 'a', takeoverUserid: 'b', role: 'admin' },
      ],
      ['POST', '/api/v1/vehicles', { corpId: CORP_A, vin: 'LSVAB2180E2000777', model: '星越L', ownerRole: 'admin' }],
      [
        'POST',
        '/api/v1/rules',
        {
          name: 'n',
          scope: CORP_A,
          trigger: { type: 'customer.added' },
          actions: [{ type: 'tag', add: [{ group: 'g', name: 'n' }] }],
          createdBy: 'someone-else',
        },
      ],
      ['PATCH', `/api/v1/corps/${CORP_A}/settings`, { displayName: 'x', kind: 'oem' }],
    ];
    for (const [method, path, body] of cases) {
      const res = await call(method, path, BOOTSTRAP, JSON.stringify(body));
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(JSON.stringify(res.body.error.details), `${method} ${path}`).toMatch(/unknown field|is not a field/i);
    }
    expect(await snapshot()).toEqual(before);
  });
});
