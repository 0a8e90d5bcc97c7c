import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { World } from '../wecom-sandbox/index.js';
import type { CorpWorld } from '../wecom-sandbox/world/model.js';

/**
 * Loads the sandbox world saved by a previous `npm run dev` (members, customers, tags with the
 * ids the bot stored), pointing its callbacks at this run's bot. False when there is none.
 * See docs/wecom-sandbox.md ("The dev stack's world").
 */
export function restoreSandboxWorld(world: World, file: string, botUrl: string): boolean {
  if (!existsSync(file)) return false;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { corps: CorpWorld[] };
  for (const corp of saved.corps) {
    corp.callback.url = rebase(corp.callback.url, botUrl);
    if (corp.contactSync) corp.contactSync.url = rebase(corp.contactSync.url, botUrl);
  }
  world.restore(saved);
  return true;
}

/** Writes the world atomically (temp file, then rename), so a crash never leaves half a file. */
export function saveSandboxWorld(world: World, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(world.snapshot()));
  renameSync(`${file}.tmp`, file);
}

function rebase(url: string | undefined, botUrl: string): string | undefined {
  if (!url) return url;
  const u = new URL(url);
  return `${botUrl}${u.pathname}${u.search}`;
}
