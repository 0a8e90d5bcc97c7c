/**
 * Parses a raw query string with `decodeURIComponent` only: unlike querystring/URLSearchParams it
 * keeps `+` as `+`, which base64 `echostr` values need (docs/wecom.md §1.3). The first value of a
 * repeated name wins. Returns undefined for malformed percent-encoding.
 */
export function parseRawQuery(raw: string): Record<string, string> | undefined {
  const out = Object.create(null) as Record<string, string>;
  if (raw.length === 0) return out;
  for (const pair of raw.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      const key = decodePart(name);
      if (!Object.hasOwn(out, key)) out[key] = decodePart(value);
    } catch {
      return undefined;
    }
  }
  return out;
}

/** decodeURIComponent, skipped for the usual part with nothing encoded (a callback's signature, timestamp, nonce). */
function decodePart(part: string): string {
  return part.includes('%') ? decodeURIComponent(part) : part;
}
