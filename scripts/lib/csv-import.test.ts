import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCsvRows, reportRejected } from './csv-import.js';

const dir = mkdtempSync(join(tmpdir(), 'csv-import-'));
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('import CSV helpers', () => {
  it('reads header-keyed rows with their line numbers, past a BOM, blank lines and a short row', async () => {
    const file = join(dir, 'in.csv');
    writeFileSync(file, '\uFEFFvin,model\r\nLSVAB2180E2100001, Lavida \r\n\r\nLSVAB2180E2100002\r\n');
    const rows = [];
    for await (const row of readCsvRows(file)) rows.push(row);
    expect(rows).toEqual([
      { line: 2, record: { vin: 'LSVAB2180E2100001', model: 'Lavida' } },
      { line: 4, record: { vin: 'LSVAB2180E2100002' } },
    ]);
  });

  it('writes rejected rows with an errors column, prints the first 10 and sets exit code 1; nothing when none', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = join(dir, 'rejected.csv');
    reportRejected([], out);
    expect(process.exitCode).toBeUndefined();
    const rejected = Array.from({ length: 12 }, (_, i) => ({
      line: i + 2,
      record: { vin: `V${i}` },
      problems: ['vin: use 17 characters', 'model: too long'],
    }));
    reportRejected(rejected, out);
    const lines = readFileSync(out, 'utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    expect(lines[0]).toBe('line,vin,errors');
    expect(lines[1]).toBe('2,V0,vin: use 17 characters; model: too long');
    expect(lines).toHaveLength(13);
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
      ...rejected.slice(0, 10).map((r) => `  line ${r.line}: vin: use 17 characters; model: too long`),
      '  … 2 more',
      `rejected rows written to ${out}`,
    ]);
    expect(process.exitCode).toBe(1);
  });
});
