import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvSafe, toCsv } from './csv.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|vue)$/.test(name) ? [path] : [];
  });
}

describe('CSV output', () => {
  it('prefixes every cell a spreadsheet would run as a formula with an apostrophe', () => {
    for (const cell of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx'])
      expect(csvSafe(cell)).toBe(`'${cell}`);
    for (const cell of ['回访 =1', 'a-b', '', '1.5']) expect(csvSafe(cell)).toBe(cell);
  });

  it('toCsv escapes text cells in rows and records, and keeps numbers', () => {
    expect(
      toCsv([
        ['title', 'n'],
        ['=cmd|"/c calc"!A1', -3],
      ]),
    ).toBe(`title,n\n"'=cmd|""/c calc""!A1",-3\n`);
    expect(toCsv([{ line: 2, name: '@x' }], { header: true })).toBe("line,name\n2,'@x\n");
  });

  it('is the only writer: nothing else imports csv-stringify', () => {
    const offenders = ['src', 'scripts', 'jobs']
      .flatMap((d) => sources(join(ROOT, d)))
      .filter(
        (f) =>
          !f.endsWith(join('src', 'infra', 'csv.ts')) &&
          !f.endsWith('.test.ts') &&
          readFileSync(f, 'utf8').includes("from 'csv-stringify"),
      )
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
