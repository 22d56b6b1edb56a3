import type { JsonValue } from '../../shared/action';

/**
 * Agent-supplied text in the plain-text part of a mail. A line break (or anything a mail client may
 * show as one, or use to reorder what is shown) inside agent text would let it start a line of its
 * own and pass for one of the mail's lines ("Approve: https://…"). So it is escaped: line breaks and
 * other control characters, Unicode line and paragraph separators, bidirectional overrides and
 * isolates, and the byte-order mark become `\n` or `\uXXXX`, and values are shown as JSON literals.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(char: string): string {
  return SHORT[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Agent text inside a line the mail writes (a title): escaped, so it stays on that line. */
export function inline(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Agent text as a quoted JSON string literal, so where it starts and ends is plain to see. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(UNSAFE, escapeChar);
}

/** A payload value as compact JSON (strings quoted), clipped to `max` characters. */
export function jsonLiteral(value: JsonValue, max = 500): string {
  const text = (JSON.stringify(value) ?? 'null').replace(UNSAFE, escapeChar);
  return text.length > max ? `${text.slice(0, max - 1)}… (${text.length} characters; the console shows all of it)` : text;
}

const PLAIN_NAME = /^[A-Za-z0-9_.:@-]+$/;

/** A payload field name: bare when it is a plain identifier, else quoted. */
export function fieldName(name: string): string {
  return PLAIN_NAME.test(name) ? name : quoted(name);
}
