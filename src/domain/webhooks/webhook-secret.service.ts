import { randomBytes } from 'node:crypto';
import { dayjs } from '../../infra/clock.js';
import { sealContext, type DataCipher } from '../../infra/data-crypto.js';
import { SECRET_PREFIX } from './webhook-signature.js';
import { WebhookSecretModel } from './webhook-secret.model.js';

export const WEBHOOK_SOURCE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** The seal context of one secret: bound to corp, source and secret id (docs/security.md). */
export function webhookSecretContext(corpId: string, source: string, id: string): string {
  return sealContext(
    'webhook_secrets',
    'sealed',
    `${encodeURIComponent(corpId)}:${encodeURIComponent(source)}:${encodeURIComponent(id)}`,
  );
}

export interface SecretSummary {
  id: string;
  createdAt: Date;
  expiresAt?: Date;
}

/**
 * The per-corp, per-source webhook secret store, for every pusher (DMS outcomes, leads ...):
 * `create` makes the first secret, `rotate` adds a new one and lets the previous one verify for
 * `overlap` more (two valid at once), `retire` ends the older ones now. The plain secret is
 * returned once, on creation; the store keeps it sealed.
 */
export class WebhookSecrets {
  constructor(
    private readonly cipher: DataCipher,
    private readonly now: () => Date,
  ) {}

  /** Adds a new secret; earlier unexpired ones expire after `overlapHours` (default 24). Returns the new secret. */
  async rotate(corpId: string, source: string, overlapHours = 24): Promise<{ id: string; secret: string }> {
    if (!WEBHOOK_SOURCE_PATTERN.test(source))
      throw new Error('source: lower-case letters, digits and -, like dms or leads');
    const now = this.now();
    const id = `ws_${dayjs(now).utc().format('YYYYMMDDHHmmss')}_${randomBytes(3).toString('hex')}`;
    const secret = `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
    const doc = await WebhookSecretModel.findOne({ corpId, source }).lean();
    const until = dayjs(now).add(overlapHours, 'hour').toDate();
    // Keep only what still verifies, and at most one previous secret beside the new one.
    const live = (doc?.secrets ?? [])
      .filter((s) => !s.expiresAt || s.expiresAt > now)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, 1)
      .map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < until ? s.expiresAt : until }));
    await WebhookSecretModel.updateOne(
      { corpId, source },
      {
        $set: {
          secrets: [
            ...live,
            { id, sealed: this.cipher.encrypt(secret, webhookSecretContext(corpId, source, id)), createdAt: now },
          ],
        },
      },
      { upsert: true },
    );
    return { id, secret };
  }

  /** Ends every secret but the newest at once (after the sender switched). Returns how many ended. */
  async retireOld(corpId: string, source: string): Promise<number> {
    const doc = await WebhookSecretModel.findOne({ corpId, source }).lean();
    if (!doc || doc.secrets.length < 2) return 0;
    const newest = [...doc.secrets].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    await WebhookSecretModel.updateOne({ _id: doc._id }, { $set: { secrets: newest ? [newest] : [] } });
    return doc.secrets.length - 1;
  }

  /** Removes every secret: the source's deliveries are refused until a new one is created. */
  async revokeAll(corpId: string, source: string): Promise<void> {
    await WebhookSecretModel.deleteOne({ corpId, source });
  }

  async list(corpId: string, source: string): Promise<SecretSummary[]> {
    const doc = await WebhookSecretModel.findOne({ corpId, source }).lean();
    return (doc?.secrets ?? []).map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}),
    }));
  }

  /** The secrets that verify now, opened. */
  async valid(corpId: string, source: string): Promise<Array<{ id: string; secret: string }>> {
    const now = this.now();
    const doc = await WebhookSecretModel.findOne({ corpId, source }).lean();
    return (doc?.secrets ?? [])
      .filter((s) => !s.expiresAt || s.expiresAt > now)
      .map((s) => ({ id: s.id, secret: this.cipher.decrypt(s.sealed, webhookSecretContext(corpId, source, s.id)) }));
  }
}
