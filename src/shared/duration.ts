const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A whole positive number and one unit: `90s`, `30m`, `4h`, `2d`. No sign, spaces, fractions,
 * leading zeros, upper case or `0`; the only duration syntax Holdpoint reads (policy, config,
 * CLI flags, query parameters).
 */
export const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d)$/;

/** The longest duration read: 100 years, so `now` minus it is always a valid date. */
export const MAX_DURATION_MS = 36_500 * UNIT_MS.d;

/** An ISO-8601 date, or date and time: `2025-03-01`, `2025-03-01T09:00:00Z` (or a space for the T). */
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}([T ].+)?$/;

/** A duration back from now or an ISO-8601 date or time: the shape of `--since`, `?since=` and the like. */
export const INSTANT_OR_DURATION_PATTERN = new RegExp(`^(${DURATION_PATTERN.source.slice(1, -1)}|${INSTANT_PATTERN.source.slice(1, -1)})$`);

/** `90s`, `30m`, `4h`, `2d` → milliseconds; undefined when the text is not a duration or is longer than 100 years. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * `30d` (that long before `now`) or an ISO-8601 date or time → the instant; undefined when the
 * text is neither or names no valid date (`2025-13-01`).
 */
export function parseInstant(text: string, now: Date): Date | undefined {
  const ms = parseDuration(text);
  const at = ms !== undefined ? now.getTime() - ms : INSTANT_PATTERN.test(text) ? Date.parse(text) : Number.NaN;
  const instant = new Date(at);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

/** Milliseconds → the shortest duration text that parses back to it (`30m`, `2h`); `1500ms` otherwise. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
