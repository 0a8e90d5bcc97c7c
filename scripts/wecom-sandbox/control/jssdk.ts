import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { jsapiSignature } from '../../../src/wecom/jsapi-signature.js';
import { readBody } from '../server/body.js';
import type { SandboxContext } from '../server/context.js';

/** The chat a member has "open" in the stand-in: the entry `getContext` reports and the contact. */
interface OpenChat {
  entry: string;
  externalUserId?: string;
  chatId?: string;
}

/** A message `sendChatMessage` put into a chat (kept for tests and the demo). */
export interface SandboxChatMessage {
  corpId: string;
  userid: string;
  externalUserId?: string;
  chatId?: string;
  msgtype: string;
  message: unknown;
  atMs: number;
}

const signed = z.object({
  timestamp: z.number().int(),
  nonceStr: z.string().min(1).max(64),
  signature: z.string().min(1).max(64),
});
const who = z.object({ corpId: z.string().min(1), userid: z.string().min(1) });
const registerBody = who.extend({
  agentId: z.number().int(),
  url: z.string().min(1).max(2048),
  config: signed,
  agentConfig: signed,
});
const selectBody = who.extend({
  entry: z.enum(['single_chat_tools', 'group_chat_tools', 'contact_profile', 'normal']),
  externalUserId: z.string().optional(),
  chatId: z.string().optional(),
});
const sendBody = who.extend({
  message: z.object({ msgtype: z.enum(['text', 'news', 'image', 'miniprogram']) }).passthrough(),
});

async function json(ctx: Context): Promise<unknown> {
  const raw = await readBody(ctx.req, 256 * 1024);
  return raw.length ? JSON.parse(raw.toString('utf8')) : {};
}

/**
 * `/__sandbox/jssdk/*`: the server half of the JS-SDK stand-in (docs/wecom-sandbox.md). The page's
 * `register` is checked exactly as WeCom checks it: both signatures recomputed with the tickets
 * this sandbox issued (docs/wecom.md §10.3); a wrong one fails with WeCom's `40093` and nothing
 * else works until a registration succeeds. A developer (or a test) picks the open chat.
 */
export function jssdkRouter(sb: SandboxContext): { router: Router; sent: SandboxChatMessage[]; reset: () => void } {
  const router = new Router({ prefix: '/__sandbox/jssdk' });
  const open = new Map<string, OpenChat>();
  const registered = new Set<string>();
  const sent: SandboxChatMessage[] = [];
  const key = (corpId: string, userid: string) => `${corpId}|${userid}`;
  const fail = (ctx: Context, status: number, message: string) => {
    ctx.status = status;
    ctx.body = { error: { code: 'invalid_input', message } };
  };

  router.post('/register', async (ctx) => {
    const body = registerBody.safeParse(await json(ctx).catch(() => undefined));
    if (!body.success) return fail(ctx, 400, body.error.message);
    const b = body.data;
    const corp = sb.world.corp(b.corpId);
    if (!corp) return void (ctx.body = { errMsg: 'config:fail invalid corpid', errcode: 40013 });
    if (b.agentId !== corp.agentId)
      return void (ctx.body = { errMsg: 'agentConfig:fail invalid agentid', errcode: 40056 });
    const corpTicket = sb.tickets.valid(corp.corpId, corp.agentId, 'corp');
    const agentTicket = sb.tickets.valid(corp.corpId, corp.agentId, 'agent');
    const ok = (ticket: string | undefined, s: z.infer<typeof signed>) =>
      Boolean(ticket) &&
      jsapiSignature({ ticket: ticket ?? '', nonceStr: s.nonceStr, timestamp: s.timestamp, url: b.url }) ===
        s.signature;
    if (!ok(corpTicket, b.config)) return void (ctx.body = { errMsg: 'config:fail invalid signature', errcode: 40093 });
    if (!ok(agentTicket, b.agentConfig))
      return void (ctx.body = { errMsg: 'agentConfig:fail invalid signature', errcode: 40093 });
    registered.add(key(b.corpId, b.userid));
    ctx.body = { errMsg: 'agentConfig:ok', errcode: 0 };
  });

  /** The member's customers (active follows) for the picker, and the chat open now. */
  router.get('/chats', (ctx) => {
    const q = who.safeParse(ctx.query);
    if (!q.success) return fail(ctx, 400, q.error.message);
    const corp = sb.world.corp(q.data.corpId);
    if (!corp) return fail(ctx, 404, 'unknown corp');
    const follows = corp.follows.filter((f) => f.userid === q.data.userid && f.status === 'active');
    ctx.body = {
      open: open.get(key(q.data.corpId, q.data.userid)) ?? { entry: 'normal' },
      customers: follows.map((f) => ({
        externalUserId: f.external_userid,
        name: corp.customers.find((c) => c.external_userid === f.external_userid)?.name ?? '',
        remark: f.remark,
      })),
    };
  });

  router.post('/select', async (ctx) => {
    const body = selectBody.safeParse(await json(ctx).catch(() => undefined));
    if (!body.success) return fail(ctx, 400, body.error.message);
    const { corpId, userid, ...chat } = body.data;
    open.set(key(corpId, userid), chat);
    ctx.body = { open: chat };
  });

  /** What getContext / getCurExternalContact / getCurExternalChat answer (only after register, like WeCom). */
  router.get('/context', (ctx) => {
    const q = who.safeParse(ctx.query);
    if (!q.success) return fail(ctx, 400, q.error.message);
    if (!registered.has(key(q.data.corpId, q.data.userid)))
      return void (ctx.body = { errMsg: 'getContext:fail no permission', errcode: 40093 });
    ctx.body = { errMsg: 'getContext:ok', ...(open.get(key(q.data.corpId, q.data.userid)) ?? { entry: 'normal' }) };
  });

  router.post('/send', async (ctx) => {
    const body = sendBody.safeParse(await json(ctx).catch(() => undefined));
    if (!body.success) return fail(ctx, 400, body.error.message);
    const b = body.data;
    if (!registered.has(key(b.corpId, b.userid)))
      return void (ctx.body = { errMsg: 'sendChatMessage:fail no permission', errcode: 40093 });
    const chat = open.get(key(b.corpId, b.userid));
    if (!chat || (chat.entry !== 'single_chat_tools' && chat.entry !== 'group_chat_tools')) {
      return void (ctx.body = { errMsg: 'sendChatMessage:fail without context of external contact', errcode: -1 });
    }
    sent.push({
      corpId: b.corpId,
      userid: b.userid,
      externalUserId: chat.externalUserId,
      chatId: chat.chatId,
      msgtype: b.message.msgtype,
      message: b.message,
      atMs: sb.clock.nowMs(),
    });
    ctx.body = { errMsg: 'sendChatMessage:ok', errcode: 0 };
  });

  router.get('/sent', (ctx) => {
    ctx.body = { messages: sent };
  });

  return {
    router,
    sent,
    reset: () => {
      open.clear();
      registered.clear();
      sent.length = 0;
    },
  };
}
