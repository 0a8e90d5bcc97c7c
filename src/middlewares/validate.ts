/** The HTTP layer's validation helpers; they live in `src/infra/validation.ts` so the domain may use them too. */
export { jsonPointer, parseOrThrow, problemsOf } from '../infra/validation.js';
