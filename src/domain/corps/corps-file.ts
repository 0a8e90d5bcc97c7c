import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../../infra/logger.js';
import type { CorpService } from './corp.service.js';
import { corpInputSchema } from './corp.types.js';

const corpsFileSchema = z.union([
  z.array(corpInputSchema),
  z.object({ corps: z.array(corpInputSchema) }).transform((v) => v.corps),
]);

/**
 * Applies CORPS_FILE at boot: a JSON array of corps (or `{ "corps": [...] }`), each upserted.
 * Idempotent: unchanged corps are left alone. Errors name the file and the entry, never a secret.
 */
export async function applyCorpsFile(
  path: string,
  service: CorpService,
  logger: Logger,
): Promise<{ created: number; updated: number; unchanged: number }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`CORPS_FILE ${path} could not be read as JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = corpsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`CORPS_FILE ${path} is invalid: ${problems}`);
  }
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const corp of parsed.data) {
    const result = await service.upsert(corp);
    if (result.created) counts.created += 1;
    else if (result.changed) counts.updated += 1;
    else counts.unchanged += 1;
  }
  logger.info({ file: path, ...counts }, 'corps file applied');
  return counts;
}
