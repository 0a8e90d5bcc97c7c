import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The dependency direction of docs/architecture.md §10, checked on every file's imports: the domain
 * never reaches up into the HTTP layer (`src/routes/`, `src/middlewares/`); its errors come from
 * `src/infra/errors.ts` (§13.3). Routes never query a mongoose model: they call the feature's
 * query and command modules (types from a model file are fine).
 */
const repo = resolve(import.meta.dirname, '..');

function sourceFiles(): string[] {
  const listed = spawnSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'jobs', 'scripts'],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  return listed.stdout.split('\n').filter((f) => f.endsWith('.ts') && !f.startsWith('src/console/'));
}

/** The repository-relative paths a file imports (relative specifiers only; `.js` read as `.ts`). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(repo, file), 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
}

interface Rule {
  what: string;
  from: (file: string) => boolean;
  to: (target: string) => boolean;
}

const isTest = (f: string) => /\.test\.ts$|\.test-support\.ts$|\/testing\//.test(f);

/** The model files a file imports values from (`import type` and `type` specifiers left out). */
function modelValueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(repo, file), 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const node of source.statements) {
    if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
    const spec = node.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !/\.model\.js$/.test(spec.text)) continue;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const allTypes = !clause?.name && named && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly);
      if (allTypes) continue;
    } else if (node.isTypeOnly) continue;
    found.push(normalize(join(dirname(file), spec.text)).replace(/\.js$/, '.ts'));
  }
  return found;
}

const RULES: Rule[] = [
  {
    what: 'the domain imports the HTTP layer',
    from: (f) => f.startsWith('src/domain/'),
    to: (t) => t.startsWith('src/routes/') || t.startsWith('src/middlewares/'),
  },
  {
    what: 'src/ imports the worker process (jobs/)',
    from: (f) => f.startsWith('src/'),
    to: (t) => t.startsWith('jobs/'),
  },
];

describe('layering (docs/architecture.md §10)', () => {
  const files = sourceFiles();

  it('finds the source files it checks', () => {
    expect(files.filter((f) => f.startsWith('src/domain/')).length).toBeGreaterThan(50);
    expect(importsOf('src/middlewares/errors.ts')).toContain('src/infra/errors.ts');
    expect(modelValueImports('src/domain/tasks/task-queries.ts')).toContain('src/domain/tasks/task.model.ts');
    expect(modelValueImports('src/routes/api/task-present.ts')).toEqual([]);
  });

  it('no file imports against the dependency direction', () => {
    const found: string[] = [];
    for (const file of files) {
      const rules = RULES.filter((r) => r.from(file));
      if (rules.length === 0) continue;
      for (const target of importsOf(file)) {
        for (const rule of rules) if (rule.to(target)) found.push(`${file} → ${target}: ${rule.what}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('route code calls query and command modules, never a model (tests may seed models)', () => {
    const routes = files.filter((f) => f.startsWith('src/routes/') && !isTest(f));
    expect(routes.length).toBeGreaterThan(20);
    const found = routes.flatMap((f) => modelValueImports(f).map((m) => `${f} → ${m}`));
    expect(found).toEqual([]);
  });

  it('flags a domain file that imports a route (the rule itself works)', () => {
    const rule = RULES[0]!;
    expect(rule.from('src/domain/tasks/task.service.ts') && rule.to('src/middlewares/errors.ts')).toBe(true);
    expect(isTest('src/routes/api/api.test-support.ts')).toBe(true);
  });
});
