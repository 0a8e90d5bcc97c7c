import Router from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import { z } from 'zod';
import { readBody } from '../server/body.js';
import type { SandboxContext } from '../server/context.js';
import { faultSchema } from '../server/faults.js';
import { limitsSchema } from '../server/limits.js';
import { actionSchemas, type ActionName } from '../driver/action-schemas.js';
import { DriverError, type CallbackDriver } from '../driver/driver.js';

async function jsonBody(ctx: Context): Promise<unknown> {
  const raw = await readBody(ctx.req, 5 * 1024 * 1024);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    ctx.throw(400, 'body must be JSON');
  }
}

function badRequest(ctx: Context, err: unknown): void {
  if (err instanceof z.ZodError) {
    ctx.status = 400;
    ctx.body = {
      error: {
        code: 'invalid_input',
        message: err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      },
    };
  } else if (err instanceof DriverError) {
    ctx.status = err.status;
    ctx.body = { error: { code: 'driver_error', message: err.message } };
  } else if (err instanceof Error && /^seed:/.test(err.message)) {
    ctx.status = 400;
    ctx.body = { error: { code: 'invalid_seed', message: err.message } };
  } else {
    throw err;
  }
}

/**
 * `/__sandbox/*`: seed, reset, inspect, faults, limits, token invalidation and driver actions.
 * Never mixed with WeCom's `/cgi-bin/*` paths (see docs/wecom-sandbox.md).
 */
export function controlRouter(sb: SandboxContext, driver: CallbackDriver, onReset: () => void): Router {
  const router = new Router({ prefix: '/__sandbox' });

  router.get('/health', (ctx) => {
    ctx.body = { ok: true, now: new Date(sb.clock.nowMs()).toISOString(), corps: [...sb.world.corps.keys()] };
  });
  router.post('/seed', async (ctx) => {
    try {
      ctx.body = sb.world.seed(await jsonBody(ctx));
    } catch (err) {
      badRequest(ctx, err);
    }
  });
  router.post('/reset', (ctx) => {
    onReset();
    ctx.body = { ok: true };
  });
  router.get('/world', (ctx) => {
    ctx.body = sb.world.snapshot(typeof ctx.query.corpId === 'string' ? ctx.query.corpId : undefined);
  });
  router.get('/calls', (ctx) => {
    const q = ctx.query;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const num = (v: unknown) => (str(v) === undefined ? undefined : Number(v));
    const calls = sb.calls.list({
      endpoint: str(q.endpoint),
      corpId: str(q.corpId),
      since: num(q.since),
      errcode: num(q.errcode),
    });
    ctx.body = { lastSeq: sb.calls.lastSeq, calls };
  });
  router.delete('/calls', (ctx) => {
    sb.calls.clear();
    ctx.body = { ok: true };
  });
  router.get('/deliveries', (ctx) => {
    ctx.body = { deliveries: driver.deliveries };
  });
  router.get('/faults', (ctx) => {
    ctx.body = { faults: sb.faults.list() };
  });
  router.post('/faults', async (ctx) => {
    try {
      const body = await jsonBody(ctx);
      const specs = z.union([faultSchema, z.array(faultSchema)]).parse(body);
      ctx.body = { ids: (Array.isArray(specs) ? specs : [specs]).map((s) => sb.faults.add(s)) };
    } catch (err) {
      badRequest(ctx, err);
    }
  });
  router.delete('/faults', (ctx) => {
    sb.faults.clear();
    ctx.body = { ok: true };
  });
  router.get('/limits', (ctx) => {
    ctx.body = { ...sb.limits.config, tokenTtlSec: sb.tokens.ttlSec, hits: sb.limits.hits };
  });
  router.post('/limits', async (ctx) => {
    try {
      const patch = limitsSchema.parse(await jsonBody(ctx));
      if (patch.tokenTtlSec !== undefined) sb.tokens.ttlSec = patch.tokenTtlSec;
      ctx.body = { ...sb.limits.apply(patch), tokenTtlSec: sb.tokens.ttlSec };
    } catch (err) {
      badRequest(ctx, err);
    }
  });
  router.post('/tokens/invalidate', async (ctx) => {
    try {
      const { corpId } = z.object({ corpId: z.string().optional() }).parse(await jsonBody(ctx));
      ctx.body = { invalidated: sb.tokens.invalidate(corpId) };
    } catch (err) {
      badRequest(ctx, err);
    }
  });
  router.post('/actions/:action', async (ctx) => {
    const action = ctx.params.action ?? '';
    if (!(action in actionSchemas)) {
      ctx.status = 404;
      ctx.body = { error: { code: 'unknown_action', message: `actions: ${Object.keys(actionSchemas).join(', ')}` } };
      return;
    }
    try {
      const input = await jsonBody(ctx);
      const run = driver.run(action as ActionName, input);
      if (ctx.query.async === '1') {
        run.catch((err: unknown) =>
          sb.logger.warn(
            { action, err: err instanceof Error ? err.message : String(err) },
            'async sandbox action failed',
          ),
        );
        ctx.status = 202;
        ctx.body = { accepted: true };
      } else {
        ctx.body = await run;
      }
    } catch (err) {
      badRequest(ctx, err);
    }
  });
  router.get('/qr/:file', async (ctx) => {
    const configId = (ctx.params.file ?? '').replace(/\.png$/, '');
    const way = [...sb.world.corps.values()].flatMap((c) => c.contactWays ?? []).find((w) => w.config_id === configId);
    if (!way) {
      ctx.status = 404;
      ctx.body = { error: { code: 'unknown_contact_way', message: `no contact way ${configId}` } };
      return;
    }
    ctx.type = 'image/png';
    ctx.body = await QRCode.toBuffer(`https://work.weixin.qq.com/ca/${configId}`, {
      type: 'png',
      width: 430,
      margin: 2,
    });
  });
  router.get('/media/:file', (ctx) => {
    ctx.type = 'image/png';
    ctx.body = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
  });
  return router;
}
