import type { Schema } from 'mongoose';

/**
 * Every stored path of a mongoose schema, nested and subdocument paths included
 * (`lifecycle.stage`, `lifecycleHistory.at`), without `__v`. Used by the inventory test.
 */
export function schemaPaths(schema: Schema, prefix = ''): string[] {
  const out: string[] = [];
  schema.eachPath((path, type) => {
    if (path === '__v') return;
    const full = prefix + path;
    out.push(full);
    const sub = (type as unknown as { schema?: Schema }).schema;
    if (sub)
      out.push(...schemaPaths(sub, `${full}.`).filter((p) => !p.endsWith('._id') || sub.path('_id') !== undefined));
  });
  return out;
}
