/** zod input → 422 problems, shared by the HTTP layer and the domain (docs/architecture.md §10). */
import type { z } from 'zod';
import { ValidationError, type FieldProblem } from './errors.js';

/** A zod issue path as a JSON pointer (`/vehicles/3/vin`), RFC 6901 escaped. */
export function jsonPointer(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  return prefix + path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** zod issues → `{ path, message }` problems, paths as JSON pointers under `prefix`. */
export function problemsOf(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    return {
      path: jsonPointer(issue.path, prefix) || '/',
      message: unknownKeys
        ? `unknown field${unknownKeys.length > 1 ? 's' : ''} ${unknownKeys.join(', ')}`
        : issue.message,
    };
  });
}

/** Parses input with `schema` or throws a 422 ValidationError listing every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, prefix));
  return parsed.data;
}
