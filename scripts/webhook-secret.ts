/**
 * Manages the per-corp signing secrets of webhook pushers (docs/outcomes.md, "Webhook secrets"):
 *   npm run webhook-secret -- rotate --corp <corpId> --source dms [--overlap-hours 24]
 *   npm run webhook-secret -- list   --corp <corpId> --source dms
 *   npm run webhook-secret -- retire --corp <corpId> --source dms   (end the older secret now)
 *   npm run webhook-secret -- revoke --corp <corpId> --source dms   (refuse every delivery)
 * `rotate` creates the first secret too and prints the new secret once; the previous one keeps
 * verifying for the overlap, so the sender can switch without losing a delivery.
 */
import { parseArgs } from 'node:util';
import { CorpModel } from '../src/domain/corps/corp.model.js';
import { WEBHOOK_SOURCE_PATTERN, WebhookSecrets } from '../src/domain/webhooks/webhook-secret.service.js';
import { fail, openCliContext } from './lib/cli-context.js';

const USAGE =
  'usage: npm run webhook-secret -- <rotate|list|retire|revoke> --corp <corpId> --source <dms|leads|...> [--overlap-hours 24]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { corp: { type: 'string' }, source: { type: 'string' }, 'overlap-hours': { type: 'string' } },
    allowPositionals: true,
  });
  const command = positionals[0];
  if (!command || !['rotate', 'list', 'retire', 'revoke'].includes(command) || !values.corp || !values.source)
    fail(USAGE);
  if (!WEBHOOK_SOURCE_PATTERN.test(values.source))
    fail('--source: lower-case letters, digits and -, like dms or leads');
  const overlap = values['overlap-hours'] === undefined ? 24 : Number(values['overlap-hours']);
  if (!Number.isFinite(overlap) || overlap < 0 || overlap > 24 * 30)
    fail('--overlap-hours: a number of hours from 0 to 720');
  const ctx = await openCliContext('webhook-secret');
  try {
    if (!(await CorpModel.exists({ corpId: values.corp })))
      fail(`unknown corp ${values.corp}: add it first with npm run corp -- add`, 65);
    const store = new WebhookSecrets(ctx.pd.cipher, () => new Date());
    if (command === 'rotate') {
      const { id, secret } = await store.rotate(values.corp, values.source, overlap);
      console.log(
        `new ${values.source} secret ${id} for ${values.corp} (shown once; give it to the sender):\n${secret}`,
      );
    } else if (command === 'retire') {
      console.log(`${await store.retireOld(values.corp, values.source)} older secret(s) ended`);
    } else if (command === 'revoke') {
      await store.revokeAll(values.corp, values.source);
      console.log(`every ${values.source} secret of ${values.corp} removed; deliveries are refused until rotate`);
    }
    for (const s of await store.list(values.corp, values.source)) {
      console.log(
        `${s.id}  created ${s.createdAt.toISOString()}${s.expiresAt ? `  expires ${s.expiresAt.toISOString()}` : ''}`,
      );
    }
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => fail(`webhook-secret failed: ${(err as Error).message}`, 1));
