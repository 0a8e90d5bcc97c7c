import { rename, readFile, writeFile } from 'node:fs/promises';
import { deserialize, serialize, type Document } from 'bson';
import { Index } from './indexes.js';
import type { Store } from './storage.js';

/**
 * Snapshot format: a stream of BSON documents. `{ t: "c", db, name, options, indexes }`
 * opens a collection; each following `{ t: "d", d: <doc> }` belongs to it.
 */
export async function saveSnapshot(store: Store, file: string): Promise<number> {
  const parts: Buffer[] = [];
  let count = 0;
  for (const coll of store.allCollections()) {
    parts.push(
      Buffer.from(
        serialize({
          t: 'c',
          db: coll.db,
          name: coll.name,
          options: coll.options,
          indexes: coll.indexes.map((ix) => ix.spec),
        }),
      ),
    );
    for (const doc of coll.docs.values()) {
      parts.push(Buffer.from(serialize({ t: 'd', d: doc })));
      count++;
    }
  }
  const tmp = `${file}.tmp`;
  await writeFile(tmp, Buffer.concat(parts));
  await rename(tmp, file); // atomic replace: a crash mid-write keeps the previous snapshot
  return count;
}

/** Loads a snapshot into an empty store; a missing file is not an error. Returns the document count. */
export async function loadSnapshot(store: Store, file: string): Promise<number> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let offset = 0;
  let count = 0;
  let current: ReturnType<Store['create']> | undefined;
  while (offset + 4 <= buf.length) {
    const size = buf.readInt32LE(offset);
    const rec: Document = deserialize(buf.subarray(offset, offset + size), { promoteLongs: true });
    offset += size;
    if (rec.t === 'c') {
      current = store.create(String(rec.db), String(rec.name), rec.options as Document);
      for (const spec of (rec.indexes ?? []) as Document[]) current.addIndex(new Index(spec));
    } else if (rec.t === 'd' && current) {
      current.insert(rec.d as Document);
      count++;
    }
  }
  return count;
}
