import { stringify, type Options } from 'csv-stringify/sync';

/**
 * Neutralises spreadsheet formulas in one CSV cell (OWASP "CSV Injection"): a text cell starting
 * with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, so Excel or WPS
 * shows it as text instead of evaluating it. Numbers are left alone (they cannot be formulas).
 */
export function csvSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * The one way the bot writes CSV (exports, rejected-row files): csv-stringify with every text
 * cell through csvSafe. A test fails when csv-stringify is imported anywhere else.
 */
export function toCsv(
  rows: readonly (readonly unknown[])[] | readonly Record<string, unknown>[],
  options: Omit<Options, 'cast'> = {},
): string {
  return stringify(rows as unknown[], { ...options, cast: { string: (value) => csvSafe(value) } });
}
