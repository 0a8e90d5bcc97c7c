import { createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '../../infra/errors.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { ApiTokenModel, type ApiTokenDocument } from './api-token.model.js';
import { ALL_CORPS_ROLES, type Principal, type Role } from './principal.js';

/** Token format `scrm_<tokenId>_<secret>`: the prefix makes leaked tokens easy to spot. */
const TOKEN_PATTERN = /^scrm_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface CreateTokenInput {
  role: Role;
  corps: string[];
  userid?: string;
  label?: string;
  /** Optional expiry; must lie in the future. */
  expiresAt?: Date;
}

/** lastUsedAt is written at most this often per token, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface TokenSummary {
  tokenId: string;
  role: string;
  corps: string[];
  userid?: string;
  label?: string;
  createdAt: Date;
  revokedAt?: Date;
  expiresAt?: Date;
  lastUsedAt?: Date;
}

/** Why a token needs what it needs; thrown as one 422 so the CLI prints every problem. */
function checkInput(input: CreateTokenInput): void {
  const problems: Array<{ path: string; message: string }> = [];
  const allCorps = ALL_CORPS_ROLES.includes(input.role);
  if (allCorps && input.corps.length > 0)
    problems.push({ path: 'corp', message: `${input.role} tokens see every corp; leave --corp out` });
  if (!allCorps && input.corps.length === 0)
    problems.push({ path: 'corp', message: `${input.role} tokens need --corp <corpId>` });
  if ((input.role === 'manager' || input.role === 'advisor') && !input.userid)
    problems.push({
      path: 'userid',
      message: `${input.role} tokens need --userid <WeCom userid> (their departments and records come from it)`,
    });
  if (problems.length) throw new ValidationError(problems);
}

/**
 * API tokens: create (returns the token once), list, revoke, and resolve a presented token to
 * its principal. Manager departments are derived at resolve time from the advisor directory
 * (departments the bound userid leads), so a directory change applies without a new token.
 */
export class TokenService {
  constructor(private readonly now: () => Date) {}

  async create(input: CreateTokenInput): Promise<{ token: string; tokenId: string }> {
    checkInput(input);
    if (input.expiresAt && input.expiresAt.getTime() <= this.now().getTime())
      throw new ValidationError([{ path: 'expiresAt', message: 'the expiry must lie in the future' }]);
    const tokenId = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12)
      .padEnd(12, '0');
    const token = `scrm_${tokenId}_${randomBytes(32).toString('base64url')}`;
    await ApiTokenModel.create({
      tokenId,
      hash: hashToken(token),
      role: input.role,
      corps: input.corps,
      userid: input.userid,
      label: input.label,
      expiresAt: input.expiresAt,
      createdAt: this.now(),
    });
    return { token, tokenId };
  }

  async list(): Promise<TokenSummary[]> {
    const docs = await ApiTokenModel.find({}, { hash: 0 }).sort({ createdAt: 1 }).lean();
    return docs.map((d) => ({
      tokenId: d.tokenId,
      role: d.role,
      corps: d.corps ?? [],
      userid: d.userid ?? undefined,
      label: d.label ?? undefined,
      createdAt: d.createdAt,
      revokedAt: d.revokedAt ?? undefined,
      expiresAt: d.expiresAt ?? undefined,
      lastUsedAt: d.lastUsedAt ?? undefined,
    }));
  }

  async revoke(tokenId: string): Promise<boolean> {
    const result = await ApiTokenModel.updateOne(
      { tokenId, revokedAt: { $exists: false } },
      { $set: { revokedAt: this.now() } },
    );
    return result.modifiedCount > 0;
  }

  /** The principal of a presented token, or undefined (unknown, malformed, revoked or expired). */
  async resolve(token: string): Promise<Principal | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const doc = await ApiTokenModel.findOne({ hash: hashToken(token) }).lean();
    const now = this.now();
    if (!doc || doc.revokedAt || isExpired(doc, now)) return undefined;
    // At most one write a minute per token, not one per request (the filter makes it race-free).
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    if (!doc.lastUsedAt || doc.lastUsedAt.getTime() <= staleBefore.getTime()) {
      void ApiTokenModel.updateOne(
        { _id: doc._id, $or: [{ lastUsedAt: { $exists: false } }, { lastUsedAt: { $lte: staleBefore } }] },
        { $set: { lastUsedAt: now } },
      ).catch(() => undefined);
    }
    return this.principalOf(doc);
  }

  /**
   * The principal of a token by its id, as it is now: how a console session that signed in with
   * the token is re-validated (undefined once the token is revoked, expired or gone).
   */
  async resolveById(tokenId: string): Promise<Principal | undefined> {
    const doc = await ApiTokenModel.findOne({ tokenId }).lean();
    return doc && !doc.revokedAt && !isExpired(doc, this.now()) ? this.principalOf(doc) : undefined;
  }

  private async principalOf(doc: ApiTokenDocument): Promise<Principal> {
    const role = doc.role as Role;
    const principal: Principal = {
      role,
      corps: ALL_CORPS_ROLES.includes(role) ? '*' : (doc.corps ?? []),
      tokenId: doc.tokenId,
    };
    if (doc.userid) principal.userid = doc.userid;
    if (role === 'manager' && doc.userid) {
      const advisors = await AdvisorModel.find(
        { userid: doc.userid, corpId: { $in: doc.corps ?? [] } },
        { leadsDepartments: 1 },
      ).lean();
      principal.departments = [...new Set(advisors.flatMap((a) => a.leadsDepartments ?? []))];
    }
    return principal;
  }
}

/** Whether a token's optional expiry has passed. */
function isExpired(doc: { expiresAt?: Date | null }, now: Date): boolean {
  return !!doc.expiresAt && doc.expiresAt.getTime() <= now.getTime();
}
