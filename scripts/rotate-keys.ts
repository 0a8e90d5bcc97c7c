import { parseArgs } from 'node:util';
import { countStale, rotateKeys } from '../src/domain/privacy/key-rotation.service.js';
import { DataCipher } from '../src/infra/data-crypto.js';
import { fail, openCliContext } from './lib/cli-context.js';

const usage = `npm run rotate-keys -- [--batch 200] [--dry-run] [--restart]

Re-encrypts personal data and corp secrets sealed with an older DATA_KEYS id under
DATA_KEY_ACTIVE_ID, batch by batch, while the bot keeps running. Values still in the v1
format (no context) are rewritten as v2, bound to their document and field
(docs/security.md "Data at rest and in transit"), even under the active key.
  1. Add the new key to DATA_KEYS (keep the old ones), set DATA_KEY_ACTIVE_ID to it and
     restart web and worker: new writes use it, old values still decrypt.
  2. Run this command. It is idempotent and resumes after an interruption (checkpoint in Redis);
     --restart scans from the beginning, --dry-run only counts.
  3. When it reports 0 values under old keys, remove the old key from DATA_KEYS.`;

/** `npm run rotate-keys`: key rotation without downtime (docs/architecture.md §7, docs/security.md "Key rotation"). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      batch: { type: 'string' },
      'dry-run': { type: 'boolean' },
      restart: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) fail(usage, 0);
  const batchSize = values.batch === undefined ? 200 : Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    fail(`--batch must be an integer 1-10000\n\n${usage}`);
  const cli = await openCliContext('rotate-keys');
  const cipher = new DataCipher(cli.config.dataKeys.keys, cli.config.dataKeys.activeId);
  try {
    console.log(
      `active key id: ${cipher.activeKeyId}; configured: ${[...cli.config.dataKeys.keys.keys()].join(', ')}${values['dry-run'] ? ' (dry run)' : ''}`,
    );
    const results = await rotateKeys({
      cipher,
      redis: cli.redis,
      prefix: cli.config.redis.queuePrefix,
      batchSize,
      dryRun: values['dry-run'],
      restart: values.restart,
      onProgress: (p) =>
        console.log(
          `${p.collection}: scanned ${p.scanned}, re-encrypted ${p.rotated}${p.conflicts ? `, changed meanwhile ${p.conflicts}` : ''}`,
        ),
    });
    console.log('\ncollection\tscanned\tre-encrypted\tchanged meanwhile');
    for (const r of results) console.log(`${r.collection}\t${r.scanned}\t${r.rotated}\t${r.conflicts}`);
    const stale = await countStale(cipher);
    const left = Object.values(stale)
      .flatMap((c) => Object.values(c))
      .reduce((a, b) => a + b, 0);
    if (left === 0)
      console.log(`\nall sealed values use key ${cipher.activeKeyId}; older keys can be removed from DATA_KEYS`);
    else
      console.log(
        `\n${left} sealed values still use older keys: ${JSON.stringify(stale)}; run again (keep those keys configured)`,
      );
    process.exitCode = left === 0 || values['dry-run'] ? 0 : 1;
  } finally {
    await cli.close();
  }
}

main().catch((err: unknown) => fail(`rotate-keys: ${(err as Error).message}`, 69));
