import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withPolicyTable } from './policy-docs.js';

const doc = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/security.md');

describe('docs/security.md', () => {
  it('shows the policy table the routers enforce (run npm run security:docs after changing it)', () => {
    const text = readFileSync(doc, 'utf8');
    expect(withPolicyTable(text), 'docs/security.md is stale: run npm run security:docs').toBe(text);
  });
});
