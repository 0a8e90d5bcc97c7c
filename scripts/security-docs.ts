/**
 * Writes the policy table (src/routes/policy/route-policies.ts) into docs/security.md between its
 * markers: `npm run security:docs`. src/routes/policy/policy-docs.test.ts fails when the doc is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withPolicyTable } from '../src/routes/policy/policy-docs.js';

const path = process.argv[2] ?? 'docs/security.md';
writeFileSync(path, withPolicyTable(readFileSync(path, 'utf8')));
console.log(`wrote the policy table into ${path}`);
