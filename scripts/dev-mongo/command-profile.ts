import { writeFileSync } from 'node:fs';
import type { Document } from 'bson';
import { isPlainObject } from './bson-values.js';

/**
 * Per command shape: how often it ran, its time on the server's thread and the documents it
 * tested against a filter. Enabled by DEV_MONGO_PROFILE_FILE=<path> (written as JSON when the
 * process exits), to find which commands the server's CPU goes to (docs/dev-mongo.md, "Profiling").
 */
export const examined = { docs: 0 };

interface ShapeStats {
  count: number;
  ms: number;
  examined: number;
}

/** A value's shape: operators and field names kept, values replaced by their type. */
function shapeOf(v: unknown, depth = 0): unknown {
  if (Array.isArray(v))
    return v.length === 0
      ? []
      : depth > 3
        ? ['…']
        : [shapeOf(v[0], depth + 1), ...(v.length > 1 ? [`×${v.length}`] : [])];
  if (isPlainObject(v)) {
    if (depth > 4) return '{…}';
    const out: Document = {};
    for (const [k, x] of Object.entries(v)) out[k] = shapeOf(x, depth + 1);
    return out;
  }
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  if (typeof v === 'object') return (v as { _bsontype?: string })._bsontype ?? 'object';
  return typeof v;
}

const IGNORED = new Set([
  'lsid',
  '$clusterTime',
  '$db',
  'txnNumber',
  'autocommit',
  'startTransaction',
  'writeConcern',
  'readConcern',
  'ordered',
  'cursor',
  'batchSize',
  'maxTimeMS',
  'comment',
  '$readPreference',
  'bypassDocumentValidation',
]);

function commandShape(cmd: Document): string {
  const [name] = Object.keys(cmd);
  const parts: Document = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === name || IGNORED.has(k)) continue;
    if (k === 'documents') parts[k] = `×${Array.isArray(v) ? v.length : 0}`;
    else if (k === 'updates' || k === 'deletes')
      parts[k] = Array.isArray(v) ? [shapeOf(v[0]), `×${v.length}`] : shapeOf(v);
    else parts[k] = shapeOf(v);
  }
  return `${name ?? ''} ${typeof cmd[name ?? ''] === 'string' ? String(cmd[name ?? '']) : ''} ${JSON.stringify(parts)}`;
}

export interface CommandProfiler {
  measure<T>(cmd: Document, run: () => T): T;
}

export function commandProfiler(file: string | undefined): CommandProfiler | undefined {
  if (!file) return undefined;
  const stats = new Map<string, ShapeStats>();
  process.on('exit', () => {
    const rows = [...stats]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([shape, s]) => ({ shape, ...s, ms: Math.round(s.ms) }));
    writeFileSync(file, `${JSON.stringify(rows, null, 1)}\n`);
  });
  return {
    measure(cmd, run) {
      const t0 = performance.now();
      const e0 = examined.docs;
      try {
        return run();
      } finally {
        const key = commandShape(cmd);
        const s = stats.get(key) ?? { count: 0, ms: 0, examined: 0 };
        s.count++;
        s.ms += performance.now() - t0;
        s.examined += examined.docs - e0;
        stats.set(key, s);
      }
    },
  };
}
