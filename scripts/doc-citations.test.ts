import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The repository explains itself (docs/architecture.md, "Other documents"): code and its comments
 * cite docs/ in the repository, never documents a person who clones it does not have, nor the
 * project's issue numbers (an upstream project's public issue, e.g. "BullMQ issue #4585", is fine).
 */
const repo = resolve(import.meta.dirname, '..');
const OUTSIDE = [
  { what: 'an outside design, reference or conventions section', pattern: /\b(?:design|reference|conventions) §/ },
  { what: 'the shared folder beside the repository', pattern: /\.\.\/shared\/|\/work\/shared/ },
  { what: 'a project issue number', pattern: /(?<!BullMQ )\b[Ii]ssue #?\d+/ },
];

describe('citations in code', () => {
  it('src, jobs, scripts and config cite only documents in the repository', () => {
    const files = spawnSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'jobs', 'scripts', 'config'],
      { cwd: repo, encoding: 'utf8' },
    )
      .stdout.split('\n')
      .filter((f) => /\.(ts|vue|sh)$/.test(f) && f !== 'scripts/doc-citations.test.ts');
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      readFileSync(resolve(repo, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const { what, pattern } of OUTSIDE)
            if (pattern.test(line)) found.push(`${file}:${i + 1} cites ${what}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(found).toEqual([]);
  });
});
