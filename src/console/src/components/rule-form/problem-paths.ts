/**
 * The API's 422 problems (`{ path, message }`, paths like `actions[1].dueIn`, see
 * src/domain/rules/rule-problems.ts) mapped to the form items' props (`actions.1.dueIn`), so each
 * message shows at the field it concerns.
 */
export interface Problem {
  path: string;
  message: string;
}

/** `actions[1].attachments[0].url` → `actions.1.attachments.0.url`; `(rule)` → `` (the whole rule). */
export function propOf(path: string): string {
  if (path === '(rule)') return '';
  return path
    .replace(/^\//, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.')
    .replace(/^\./, '');
}

export type FieldErrors = Record<string, string>;

/** Problems → prop → message (several problems at one prop are joined). */
export function fieldErrors(problems: readonly Problem[]): FieldErrors {
  const out: FieldErrors = {};
  for (const p of problems) {
    const prop = propOf(p.path);
    out[prop] = out[prop] ? `${out[prop]}; ${p.message}` : p.message;
  }
  return out;
}

/**
 * The message for a form item: at its prop exactly, or (`deep`) also at any field below it — a
 * tag picker at `trigger.tag` shows a problem reported at `trigger.tag.name`.
 */
export function errorAt(errors: FieldErrors, prop: string, deep = false): string {
  const own = errors[prop];
  if (!deep) return own ?? '';
  const below = Object.entries(errors)
    .filter(([k]) => k.startsWith(`${prop}.`))
    .map(([, v]) => v);
  return [own, ...below].filter(Boolean).join('; ');
}
