import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/data-inventory.md, from the repository root. */
export const INVENTORY_FILE = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'docs/data-inventory.md',
);

/**
 * The inventory's field rows: `collection.path` → class (`| \`customers.nameEnc\` | PI · sealed | …`).
 * The machine-readable part of docs/data-inventory.md, read by the drift and export tests.
 */
export function readInventory(file = INVENTORY_FILE): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\| `([a-z_]+\.[A-Za-z0-9_.]+)` \| ([^|]+) \|/.exec(line);
    if (m?.[1] && m[2]) rows.set(m[1], m[2].trim());
  }
  return rows;
}
