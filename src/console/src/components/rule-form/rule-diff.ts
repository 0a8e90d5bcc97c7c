/**
 * What changed between two versions of a rule, field by field, for the history view. Pure:
 * bodies in, a list of changes out; the component words them with the form's own labels.
 * Lists of plain values and tags (`hasTags`, `vehicleModels` ...) compare as one value; lists of
 * objects with a type (actions, attachments) compare item by item.
 */
export interface RuleChange {
  /** Dotted like the API's problem paths: `actions[1].dueIn`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: string;
  after?: string;
}

type Json = string | number | boolean | null | undefined | Json[] | { [k: string]: Json };

const isTag = (v: unknown): v is { group: string; name: string } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).sort().join() === 'group,name';

function show(v: Json): string {
  if (v === null) return '—';
  if (Array.isArray(v)) return v.map((x) => (isTag(x) ? `${x.group}/${x.name}` : show(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function flatten(value: Json, path: string, out: Map<string, string>): void {
  if (Array.isArray(value) && value.every((x) => typeof x !== 'object' || x === null || isTag(x))) {
    if (value.length > 0) out.set(path, show(value));
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${path}[${i}]`, out));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
    return;
  }
  if (value !== undefined && value !== '') out.set(path, show(value));
}

/** The changes from `before` to `after` (either may be a rule body); in the order of `after`'s fields, then removals. */
export function diffRules(before: unknown, after: unknown): RuleChange[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before as Json, '', a);
  flatten(after as Json, '', b);
  const changes: RuleChange[] = [];
  for (const [path, value] of b) {
    const old = a.get(path);
    if (old === undefined) changes.push({ path, kind: 'added', after: value });
    else if (old !== value) changes.push({ path, kind: 'changed', before: old, after: value });
  }
  for (const [path, value] of a) if (!b.has(path)) changes.push({ path, kind: 'removed', before: value });
  return changes;
}

/**
 * A path in words with the caller's labels: `actions[1].escalation.after` → "动作 2 · 升级 · 之后".
 * `label(key)` answers the word for one field name (or the name itself when it has none); an
 * index becomes its 1-based number after the list's label.
 */
export function pathInWords(path: string, label: (key: string) => string): string {
  return path
    .split('.')
    .map((part) => {
      const m = /^(\w+)((?:\[\d+\])*)$/.exec(part);
      if (!m) return part;
      const indexes = [...(m[2] ?? '').matchAll(/\[(\d+)\]/g)].map((x) => ` ${Number(x[1]) + 1}`).join('');
      return `${label(m[1] ?? part)}${indexes}`;
    })
    .join(' · ');
}
