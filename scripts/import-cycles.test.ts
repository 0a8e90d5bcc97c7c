import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './lib/import-graph.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('import graph (docs/architecture.md §13.1, "No import cycles")', () => {
  const graph = importGraph(root, ['src', 'jobs', 'config', 'scripts']);

  it('reads the project (a walk that found nothing would pass vacuously)', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('jobs/registry.ts')).toContain('jobs/processors/inbound.processor.ts');
  });

  it('has no cycle, type-only imports included', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const withCycle = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(withCycle)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
