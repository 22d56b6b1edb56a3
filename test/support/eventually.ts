/**
 * Polls `probe` until it returns a truthy value (which is returned) or `timeoutMs` passes. A probe
 * that throws (a request timed out or was reset while a service is down) counts as "not yet"; the
 * last such error is named if time runs out.
 */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'the condition'): Promise<NonNullable<T>> {
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
      const cause = lastError ? ` (last attempt failed: ${lastError instanceof Error ? lastError.message : String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
