import type { LookupHasher } from '../../infra/data-crypto.js';

/** The execution's skip reason for a customer in the control group. */
export const HOLDOUT_REASON = 'holdout';

/**
 * Where a customer falls for a rule, uniformly in [0, 1): the first 48 bits of a keyed hash
 * (LOOKUP_HMAC_KEY) of rule and customer. Deterministic (the same customer stays in the same group
 * for the rule's whole life, across versions), independent between rules, and not guessable
 * without the key (docs/outcomes.md, "Holdout").
 */
export function holdoutPosition(hasher: LookupHasher, ruleId: string, customerId: string): number {
  const digest = Buffer.from(hasher.hash('holdout', `${ruleId}\u0000${customerId}`), 'base64url');
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function isHeldOut(
  hasher: LookupHasher,
  ruleId: string,
  customerId: string,
  share: number | undefined,
): boolean {
  return share !== undefined && share > 0 && holdoutPosition(hasher, ruleId, customerId) < share;
}
