import type { z } from 'zod';
import { ValidationError, type FieldProblem } from '../../infra/errors.js';

/**
 * zod path → the dotted form marketing reads in the console and the docs: `actions[1].dueIn`.
 * (The vehicles API keeps JSON pointers; rules are authored by people, not machines.)
 */
export function dottedPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** zod issues → `{ path, message }` with dotted paths; unknown keys name the key in the path. */
export function ruleProblemsOf(error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({
          path: dottedPath([...issue.path, key]),
          message: 'is not a field of a rule here; check the spelling',
        });
      continue;
    }
    if (
      issue.code === 'invalid_union' &&
      'errors' in issue &&
      Array.isArray(issue.errors) &&
      issue.errors.length === 0
    ) {
      problems.push({ path: dottedPath(issue.path) || '(rule)', message: issue.message });
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && issue.path.length === 0) message = 'send the rule as a JSON object';
    else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) message = 'is required';
    problems.push({ path: dottedPath(issue.path) || '(rule)', message });
  }
  return problems;
}

/** Parses with `schema` or throws a 422 listing every problem with dotted paths. */
export function parseRuleOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new ValidationError(ruleProblemsOf(parsed.error), 'the rule has problems; fix the fields listed');
  return parsed.data;
}
