import { z } from 'zod';
import { problemsOf } from '../../infra/validation.js';
import { outcomeInputSchema, type OutcomeInput } from './outcome-input.js';
import { upsertOutcomes, type OutcomeDeps, type OutcomeResult, type ReceivedVia } from './outcome.service.js';

export const MAX_OUTCOME_BATCH = 1000;

/** `{ outcomes: [...] }` (up to 1,000) or one outcome object. */
export const outcomeBatchSchema = z
  .object({
    outcomes: z
      .array(z.unknown())
      .min(1, { error: 'send at least one outcome' })
      .max(MAX_OUTCOME_BATCH, { error: `at most ${MAX_OUTCOME_BATCH} outcomes per request; split the batch` }),
  })
  .strict();

export interface BatchAnswer {
  summary: Record<'created' | 'updated' | 'unchanged' | 'stale' | 'rejected', number>;
  results: OutcomeResult[];
}

/**
 * Validates the items and stores the valid ones as one batch (the same rules for the API, the
 * webhook and the CSV import; `upsertOutcomes`): a rejected item changes nothing and is answered
 * with JSON pointers; items with the same external id are answered in their order.
 */
export async function ingestOutcomeItems(
  deps: OutcomeDeps,
  items: Array<{ pointer: string; raw: unknown }>,
  via: ReceivedVia,
): Promise<BatchAnswer> {
  const results: OutcomeResult[] = new Array(items.length);
  const valid: Array<{ index: number; input: OutcomeInput }> = [];
  for (const [i, item] of items.entries()) {
    const parsed = outcomeInputSchema.safeParse(item.raw);
    if (parsed.success) {
      valid.push({ index: i, input: parsed.data });
      continue;
    }
    const raw = item.raw as { externalId?: unknown } | null;
    results[i] = {
      status: 'rejected',
      externalId: typeof raw?.externalId === 'string' ? raw.externalId : '',
      problems: problemsOf(parsed.error, item.pointer),
    };
  }
  const stored = await upsertOutcomes(
    deps,
    valid.map((v) => v.input),
    via,
  );
  valid.forEach((v, k) => (results[v.index] = stored[k] as OutcomeResult));
  const summary = { created: 0, updated: 0, unchanged: 0, stale: 0, rejected: 0 };
  for (const r of results) summary[r.status]++;
  return { summary, results };
}

/** Splits a request body into items: a batch `{ outcomes }` or one outcome; null when it is neither. */
export function itemsOf(
  body: unknown,
): { items: Array<{ pointer: string; raw: unknown }> } | { problems: Array<{ path: string; message: string }> } {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return {
      problems: [
        {
          path: '/',
          message: 'send a JSON object: { outcomes: [...] } or one outcome { externalId, version, type, ... }',
        },
      ],
    };
  if ('outcomes' in body) {
    const batch = outcomeBatchSchema.safeParse(body);
    if (!batch.success) return { problems: problemsOf(batch.error) };
    return { items: batch.data.outcomes.map((raw, i) => ({ pointer: `/outcomes/${i}`, raw })) };
  }
  return { items: [{ pointer: '', raw: body }] };
}
