import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mongoose from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { readInventory as inventoryRows } from './inventory.js';
import { SEALED_FIELDS } from './key-rotation.service.js';
import { schemaPaths } from './schema-paths.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function modelFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? modelFiles(path) : name.endsWith('.model.ts') ? [path] : [];
  });
}

function storedPaths(): string[] {
  return Object.values(mongoose.models)
    .flatMap((m) => schemaPaths(m.schema).map((p) => `${m.collection.collectionName}.${p}`))
    .sort();
}

beforeAll(async () => {
  for (const file of modelFiles(join(root, 'src'))) await import(pathToFileURL(file).href);
});

describe('docs/data-inventory.md', () => {
  it('lists every field of every mongoose schema (a new field must be inventoried: class, purpose, erasure)', () => {
    const rows = inventoryRows();
    const missing = storedPaths().filter((p) => !rows.has(p));
    expect(missing, `add these fields to docs/data-inventory.md:\n${missing.join('\n')}`).toEqual([]);
  });

  it('lists no field that no longer exists', () => {
    const stored = new Set(storedPaths());
    const stale = [...inventoryRows().keys()].filter((p) => !stored.has(p));
    expect(stale, `remove these rows from docs/data-inventory.md:\n${stale.join('\n')}`).toEqual([]);
  });

  it('marks as sealed exactly the fields key rotation re-encrypts', () => {
    const sealed = [...inventoryRows()]
      .filter(([, cls]) => cls.endsWith('· sealed'))
      .map(([p]) => p)
      .sort();
    const rotated = SEALED_FIELDS.flatMap((s) =>
      [...s.fields, ...(s.arrays ?? [])].map((f) => `${s.collection}.${f}`),
    ).sort();
    expect(sealed).toEqual(rotated);
  });

  it('covers at least the registered models of every domain folder', () => {
    expect(Object.keys(mongoose.models).length).toBeGreaterThanOrEqual(15);
  });
});
