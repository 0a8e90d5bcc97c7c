import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * What ships is what production runs (docs/architecture.md §10): starting at the web process, the
 * worker and the operator CLIs, every import that survives compilation must stay inside the
 * production build (tsconfig.build.json) — never src/testing, the dev tools under scripts/, a
 * test or a test-support file — and every package it imports must be a production dependency
 * (`npm ci --omit=dev` in the Dockerfile installs nothing else).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as {
  include: string[];
};
/** The operator CLIs and their helpers: the only files under scripts/ that ship. */
const shippedScripts = new Set(build.include.filter((entry) => entry.startsWith('scripts/')));
const entries = [
  'src/main.ts',
  'jobs/worker.ts',
  ...[...shippedScripts].filter((file) => !file.startsWith('scripts/lib/')),
];

// Imports that survive compilation: `import type`/`export type` are erased (verbatimModuleSyntax).
const STATIC = /(?:^|[\n;])\s*(?:import|export)\s+(?!type\s)[^;'"]*?\bfrom\s+'([^']+)'/g;
const BARE = /(?:^|[\n;])\s*import\s+'([^']+)'/g;
const DYNAMIC = /\bimport\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [STATIC, BARE, DYNAMIC].flatMap((re) => [...text.matchAll(re)].map((m) => m[1] as string));
}

function resolveLocal(from: string, spec: string): string {
  const target = relative(root, resolve(root, dirname(from), spec));
  const ts = target.replace(/\.js$/, '.ts');
  if (existsSync(join(root, ts))) return ts;
  if (existsSync(join(root, target))) return target;
  throw new Error(`${from}: cannot resolve ${spec}`);
}

const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

function problemOf(file: string): string | undefined {
  if (file.startsWith('src/testing/')) return 'test helper (src/testing)';
  if (/\.test\.ts$|test-support\.ts$|\.fixture\.ts$|\.bench\.ts$/.test(file)) return 'test or bench file';
  if (file.startsWith('jobs/e2e/')) return 'end-to-end test support';
  if (file.startsWith('src/console/')) return 'console source (built by vite, not tsc)';
  if (file.startsWith('scripts/') && !shippedScripts.has(file))
    return 'development tool under scripts/ (not in tsconfig.build.json)';
  return undefined;
}

/** Every shipped file reached from the entries, with the chain that reached it. */
function walk(): { reached: Map<string, string[]>; packages: Map<string, string> } {
  const reached = new Map<string, string[]>();
  const packages = new Map<string, string>();
  const queue: Array<[string, string[]]> = entries.map((entry) => [entry, [entry]]);
  while (queue.length > 0) {
    const [file, chain] = queue.shift() as [string, string[]];
    if (reached.has(file)) continue;
    reached.set(file, chain);
    if (!file.endsWith('.ts')) continue;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      if (spec.startsWith('.')) {
        const target = resolveLocal(file, spec);
        if (!reached.has(target)) queue.push([target, [...chain, target]]);
      } else if (!packages.has(packageOf(spec))) {
        packages.set(packageOf(spec), file);
      }
    }
  }
  return { reached, packages };
}

describe('the production build', () => {
  const { reached, packages } = walk();

  it('starts from entry points that exist', () => {
    for (const entry of entries) expect(existsSync(join(root, entry)), entry).toBe(true);
    expect(reached.size).toBeGreaterThan(100);
  });

  it('imports no test helper, test file or development tool from what ships', () => {
    const offending = [...reached].flatMap(([file, chain]) => {
      const problem = problemOf(file);
      return problem ? [`${file} (${problem}), reached by ${chain.join(' → ')}`] : [];
    });
    expect(offending).toEqual([]);
  });

  it('imports only packages listed in dependencies (the image installs with --omit=dev)', () => {
    const missing = [...packages]
      .filter(([name]) => !Object.hasOwn(pkg.dependencies, name))
      .map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing).toEqual([]);
  });

  it('would catch a shipped file importing a test helper or a dev tool', () => {
    expect(problemOf('src/testing/redis-server.ts')).toMatch(/test helper/);
    expect(problemOf('scripts/dev-mongo/server.ts')).toMatch(/development tool/);
    expect(problemOf('scripts/wecom-sandbox/index.ts')).toMatch(/development tool/);
    expect(problemOf('scripts/corp.ts')).toBeUndefined();
    expect(importsOf('src/production-imports.test.ts')).toContain('vitest');
  });
});
