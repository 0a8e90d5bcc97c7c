import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import type { ContactWay, CorpWorld } from '../world/model.js';
import { newOpaque } from '../world/ids.js';
import { findMember } from '../world/world.js';
import { DAY_MS, pageOf } from './helpers.js';

/** The fields an add or an update may carry; an update replaces all of them (docs/wecom.md §9.3). */
const configFields = {
  style: z.number().int().min(1).max(3).optional(),
  remark: z.string().max(30, { error: 'remark is at most 30 characters' }).optional(),
  skip_verify: z.boolean().optional(),
  state: z.string().max(30, { error: 'state is at most 30 characters' }).optional(),
  user: z.array(z.string().min(1)).optional(),
  party: z.array(z.number().int()).optional(),
};
const addSchema = z.object({ type: z.unknown(), scene: z.unknown(), ...configFields });
const updateSchema = z.object({ config_id: z.string().optional(), ...configFields });
const idSchema = z.object({ config_id: z.string().optional() });
const listSchema = z.object({
  start_time: z.number().int().optional(),
  end_time: z.number().int().optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});

function contactWays(corp: CorpWorld): ContactWay[] {
  corp.contactWays ??= [];
  return corp.contactWays;
}

function findWay(corp: CorpWorld, configId: string | undefined): ContactWay {
  if (!configId) throw new ApiFault(41043, 'missing config_id');
  const way = contactWays(corp).find((w) => w.config_id === configId);
  if (!way) throw new ApiFault(41044, 'invalid config_id');
  return way;
}

/** Members of a contact way: visible, active, customer-contact enabled; 41041 for too many. */
function checkMembers(corp: CorpWorld, type: number, user: string[], party: number[]): string[] {
  const members = user.map((u) => {
    const m = findMember(corp, u);
    if (!m) throw new ApiFault(60111, `userid not found: ${u}`);
    if (!m.visible) throw new ApiFault(60011, 'no privilege to access/modify contact/party/agent');
    if (m.status !== 1) throw new ApiFault(41054, `member ${u} is not activated`);
    if (!m.customerContact) throw new ApiFault(84074, 'no external contact permission');
    return m.userid;
  });
  if (type === 1 && (members.length !== 1 || party.length > 0))
    throw new ApiFault(41041, 'a single-member contact way takes exactly one user');
  const expanded = new Set([
    ...members,
    ...corp.members.filter((m) => m.department.some((d) => party.includes(d))).map((m) => m.userid),
  ]);
  if (type === 2 && expanded.size === 0) throw new ApiFault(41041, 'a multi-member contact way needs user or party');
  if (expanded.size > 100) throw new ApiFault(41041, 'at most 100 members after department expansion');
  return members;
}

/** An update carries the whole configuration: absent fields take their defaults (docs/wecom.md §9.3). */
function applyConfig(corp: CorpWorld, way: ContactWay, req: z.output<typeof updateSchema>): void {
  const user = req.user ?? [];
  const party = req.party ?? [];
  way.user = checkMembers(corp, way.type, user, party);
  way.party = party;
  way.remark = req.remark ?? '';
  way.state = req.state ?? '';
  way.skip_verify = req.skip_verify ?? true;
  way.style = req.style;
}

function view(way: ContactWay): Record<string, unknown> {
  return {
    config_id: way.config_id,
    type: way.type,
    scene: way.scene,
    ...(way.style ? { style: way.style } : {}),
    remark: way.remark,
    skip_verify: way.skip_verify,
    state: way.state,
    ...(way.qr_code ? { qr_code: way.qr_code } : {}),
    user: way.user,
    party: way.party,
    is_temp: false,
  };
}

function add(corp: CorpWorld, body: unknown, sb: SandboxContext): Record<string, unknown> {
  const req = parseBody(addSchema, body);
  if (req.type === undefined) throw new ApiFault(41037, 'missing type');
  if (req.scene === undefined) throw new ApiFault(41038, 'missing scene');
  if (req.type !== 1 && req.type !== 2) throw new ApiFault(41039, 'invalid type');
  if (req.scene !== 1 && req.scene !== 2) throw new ApiFault(41040, 'invalid scene');
  if (contactWays(corp).length >= 500_000) throw new ApiFault(41045, 'contact way quota reached');
  const configId = newOpaque('', 32).toLowerCase();
  const way: ContactWay = {
    config_id: configId,
    type: req.type,
    scene: req.scene,
    remark: '',
    skip_verify: true,
    state: '',
    user: [],
    party: [],
    createdAt: Math.floor(sb.clock.nowMs() / 1000),
    ...(req.scene === 2 ? { qr_code: `${sb.baseUrl()}/__sandbox/qr/${configId}.png` } : {}),
  };
  applyConfig(corp, way, req);
  contactWays(corp).push(way);
  return { config_id: configId, ...(way.qr_code ? { qr_code: way.qr_code } : {}) };
}

/** 「联系我」 contact ways (docs/wecom.md §9): add, get, update (whole object), delete, list. */
export const contactWayRoutes: ApiRoutes = {
  'externalcontact/add_contact_way': { method: 'POST', handler: ({ corp, body, sb }) => add(corp, body, sb) },
  'externalcontact/get_contact_way': {
    method: 'POST',
    handler: ({ corp, body }) => ({ contact_way: view(findWay(corp, parseBody(idSchema, body).config_id)) }),
  },
  'externalcontact/update_contact_way': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(updateSchema, body);
      const way = findWay(corp, req.config_id);
      const draft = { ...way };
      applyConfig(corp, draft, req);
      Object.assign(way, draft);
    },
  },
  'externalcontact/del_contact_way': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const way = findWay(corp, parseBody(idSchema, body).config_id);
      corp.contactWays = contactWays(corp).filter((w) => w !== way);
    },
  },
  'externalcontact/list_contact_way': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(listSchema, body);
      const now = Math.floor(sb.clock.nowMs() / 1000);
      const end = req.end_time ?? now;
      const start = req.start_time ?? end - (90 * DAY_MS) / 1000;
      const rows = contactWays(corp)
        .filter((w) => w.createdAt >= start && w.createdAt <= end)
        .map((w) => ({ config_id: w.config_id }));
      const { page, next } = pageOf(rows, req.cursor, req.limit);
      return { contact_way: page, next_cursor: next };
    },
  },
};
