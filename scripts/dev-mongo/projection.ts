import type { Document } from 'bson';
import { Query } from 'mingo/query';
import { isPlainObject } from './bson-values.js';
import { CommandError } from './errors.js';
import { compiledQueryOptions } from './mingo-context.js';
import { idFirst } from './update.js';

/** Projects a batch: one result per input, undefined where a positional projection drops the document. */
export type Projector = (docs: Document[]) => Array<Document | undefined>;

/** A function projecting a batch of stored documents; mingo builds new objects, stored ones stay intact. */
export function makeProjector(projection: unknown, filter: unknown): Projector {
  if (
    projection === undefined ||
    projection === null ||
    (isPlainObject(projection) && Object.keys(projection).length === 0)
  ) {
    return (docs) => docs;
  }
  if (!isPlainObject(projection))
    throw new CommandError(14, "BSON field 'projection' is the wrong type, expected type 'object'");
  const fields = plainInclusion(projection);
  if (fields) return (docs) => docs.map((doc) => includeFields(doc, fields.include, fields.keepId));
  // The positional `$` projection needs the query condition; other projections must not re-filter.
  const positional = Object.keys(projection).some((k) => k.endsWith('.$'));
  const condition = positional && isPlainObject(filter) ? filter : {};
  let query: Query;
  try {
    query = new Query(condition, compiledQueryOptions);
  } catch (err) {
    throw new CommandError(2, err instanceof Error ? err.message : String(err));
  }
  const run = (docs: Document[]): Document[] => {
    try {
      return query.find<Document>(docs, projection).all().map(idFirst);
    } catch (err) {
      throw new CommandError(2, err instanceof Error ? err.message : String(err));
    }
  };
  // Without a condition mingo projects one output per input, so a whole batch goes through one
  // mingo cursor (per-document cursors cost ~0.3 ms each); a positional projection may drop
  // documents, so it stays per document to keep results aligned.
  return positional ? (docs) => docs.map((doc) => run([doc])[0]) : run;
}

/**
 * The common projection `{ a: 1, b: 1 [, _id: 0] }` (top-level fields, no paths or operators),
 * answered without mingo (~8 µs a document through its $project, the largest cost of a sweep's
 * find): `_id` first unless excluded, then the listed fields in the stored document's order, as
 * MongoDB returns them. Stored documents are never changed in place (updates build new ones), so
 * the values are shared, not copied.
 */
function plainInclusion(projection: Document): { include: Set<string>; keepId: boolean } | undefined {
  const include = new Set<string>();
  let keepId = true;
  for (const [field, value] of Object.entries(projection)) {
    if (field.includes('.') || field.startsWith('$')) return undefined;
    const on = value === 1 || value === true;
    const off = value === 0 || value === false;
    if (field === '_id') {
      if (!on && !off) return undefined;
      keepId = on;
    } else if (on) {
      include.add(field);
    } else {
      return undefined;
    }
  }
  return include.size > 0 ? { include, keepId } : undefined;
}

function includeFields(doc: Document, include: ReadonlySet<string>, keepId: boolean): Document {
  const out: Document = {};
  if (keepId && '_id' in doc) out._id = doc._id;
  for (const key of Object.keys(doc)) if (key !== '_id' && include.has(key)) out[key] = doc[key];
  return out;
}
