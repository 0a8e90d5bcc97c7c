import type { CustomerSearchKind } from '../../lib/api-types.js';

/**
 * Why a search term cannot match (a locale key under `customers.problems`), checked before the
 * request with the same rules the API applies: phones are normalised like the stored hashes
 * (digits only, +86/0086 dropped), so `+86 138-0000-0001` and `13800000001` are the same number.
 */
export function termProblem(
  by: CustomerSearchKind,
  q: string,
): 'empty' | 'phone' | 'phoneLength' | 'vin' | 'long' | undefined {
  const term = q.trim();
  if (term === '') return 'empty';
  if (by === 'phone') {
    if (!/^[+\d\s()-]+$/.test(term)) return 'phone';
    const digits = term.replace(/\D/g, '').replace(/^(?:0086|86)(?=1\d{10}$)/, '');
    if (/^1/.test(digits) ? !/^1\d{10}$/.test(digits) : !/^\d{7,15}$/.test(digits)) return 'phoneLength';
  }
  if (by === 'vin' && !/^[A-HJ-NPR-Z0-9]{17}$/.test(term.toUpperCase())) return 'vin';
  if ((by === 'name' || by === 'remark') && term.length > 64) return 'long';
  return undefined;
}

export const SEARCH_KINDS: readonly CustomerSearchKind[] = ['name', 'remark', 'phone', 'vin'];
