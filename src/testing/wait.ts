/**
 * Polls `probe` until it returns a truthy value or the deadline passes (docs/architecture.md §13.10: wait on
 * outcomes, never sleep for a fixed time). Throws with `what` so a timeout says what was awaited.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what: string,
  { timeoutMs = 10_000, intervalMs = 25 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
