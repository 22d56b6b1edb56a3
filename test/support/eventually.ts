/** Polls `probe` until it returns a truthy value (which is returned) or `timeoutMs` passes. */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'the condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
