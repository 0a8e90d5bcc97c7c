import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
/** Where the console is built to (src/console/vite.config.ts) and served from (console-static.ts). */
export const CONSOLE_OUT_DIR = join(root, 'dist/console');
const STAMP = '.source-hash';

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** A hash of everything the console build depends on: its sources and the lockfile. */
export function consoleSourceHash(base = root): string {
  const hash = createHash('sha256');
  const inputs = [...files(join(base, 'src/console')), join(base, 'package-lock.json')]
    .filter((f) => !f.endsWith('.test.ts'))
    .sort();
  for (const file of inputs) hash.update(relative(base, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** Marks `outDir` as built from sources with `hash` (consoleSourceHash before the build started). */
export function stampConsoleBuild(hash: string, outDir = CONSOLE_OUT_DIR): void {
  writeFileSync(join(outDir, STAMP), `${hash}\n`);
}

/** Whether `outDir` holds a build of exactly the current console sources. */
export function consoleBuildIsFresh(outDir = CONSOLE_OUT_DIR, base = root): boolean {
  const stamp = join(outDir, STAMP);
  return (
    existsSync(join(outDir, 'index.html')) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8').trim() === consoleSourceHash(base)
  );
}

/**
 * Builds the console with Vite when it is missing or its sources changed since the last build
 * (`npm run dev` serves it at /console/; docs/console.md), and stamps the build with the source
 * hash so the next start skips it. Returns whether it built.
 */
export async function ensureConsoleBuilt(say: (line: string) => void): Promise<boolean> {
  if (consoleBuildIsFresh()) return false;
  const hash = consoleSourceHash();
  say('building the console (first start, or its sources changed; takes a minute, then it is cached)…');
  const vite = join(root, 'node_modules/vite/bin/vite.js');
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(
      process.execPath,
      [vite, 'build', '--config', 'src/console/vite.config.ts', '--logLevel', 'warn'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    child.once('error', fail);
    child.once('exit', done);
  });
  if (code !== 0)
    throw new Error(
      `building the console failed (npm run build:console shows why):\n${Buffer.concat(output).toString().slice(-2000)}`,
    );
  stampConsoleBuild(hash);
  return true;
}
