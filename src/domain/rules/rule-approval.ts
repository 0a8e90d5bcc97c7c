import { Types } from 'mongoose';
import { ConflictError } from '../../infra/errors.js';
import type { Principal } from '../auth/principal.js';
import { RuleModel } from './rule.model.js';
import type { RuleView } from './rule.service.js';

/**
 * The person behind a principal, for four-eyes checks: the WeCom userid when the credential
 * names one (a console session, a token bound to a member), else the credential itself.
 */
export function personOf(p: Principal): string {
  return p.userid ? `user:${p.userid}` : `token:${p.tokenId}`;
}

/** Whether switching this rule on reaches every dealer, and so needs a second person. */
export function needsFourEyes(p: Principal, rule: Pick<RuleView, 'scope'>): boolean {
  return rule.scope === 'all' && p.corps === '*';
}

export type EnableOutcome = 'proposed' | 'approved' | 'unchanged';

/**
 * Four-eyes switch-on of all-corps rules (docs/security.md): a rule that reaches every dealer's
 * customers starts disabled; the first request to enable a version records who proposed it, and
 * only a different person's request switches it on (recording proposer and approver). A new
 * version drops the proposal, so what is approved is exactly what runs.
 */
export class RuleApprovals {
  constructor(private readonly now: () => Date) {}

  /** Records `p` as proposing to enable `rule` at its current version (replaces an older proposal). */
  async propose(p: Principal, rule: Pick<RuleView, 'id' | 'version'>): Promise<void> {
    await RuleModel.updateOne(
      { _id: new Types.ObjectId(rule.id) },
      { $set: { enabled: false, enableProposal: { by: personOf(p), at: this.now(), version: rule.version } } },
    );
  }

  /**
   * A request to enable: proposes when nothing (or an older version) is proposed, approves when
   * another person proposed this version; the proposer asking again is a 409.
   */
  async requestEnable(p: Principal, rule: RuleView): Promise<EnableOutcome> {
    if (rule.enabled) return 'unchanged';
    const me = personOf(p);
    const proposal = rule.enableProposal;
    if (!proposal || proposal.version !== rule.version) {
      await this.propose(p, rule);
      return 'proposed';
    }
    if (proposal.by === me)
      throw new ConflictError(
        'you proposed enabling this all-corps rule; a second person (admin or car-maker author) must approve it',
        'four_eyes_required',
      );
    const result = await RuleModel.updateOne(
      {
        _id: new Types.ObjectId(rule.id),
        version: rule.version,
        enabled: false,
        'enableProposal.by': proposal.by,
        'enableProposal.version': rule.version,
      },
      {
        $set: {
          enabled: true,
          updatedBy: p.tokenId,
          enableApproval: { proposedBy: proposal.by, approvedBy: me, at: this.now(), version: rule.version },
        },
        $unset: { enableProposal: 1 },
      },
    );
    if (result.matchedCount === 0)
      throw new ConflictError('the rule changed meanwhile; reload it and approve again', 'version_conflict');
    return 'approved';
  }

  /** Switching off needs no second person; it also withdraws a pending proposal. */
  async withdraw(rule: Pick<RuleView, 'id'>): Promise<void> {
    await RuleModel.updateOne({ _id: new Types.ObjectId(rule.id) }, { $unset: { enableProposal: 1 } });
  }
}
