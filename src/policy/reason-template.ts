import type { ActionRequest } from '../shared/action';
import { CEL_VARIABLES } from './cel-environment';

type TemplatePart = string | readonly string[];

/** A reason with `{{dotted.path}}` placeholders, split once at load. */
export interface ReasonTemplate {
  readonly parts: readonly TemplatePart[];
  /** Set when the template has no placeholders, so rendering costs nothing. */
  readonly constant?: string;
}

export type TemplateCompileResult = { ok: true; template: ReasonTemplate } | { ok: false; message: string };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
// `limits` reads the request's windowed aggregates (`{{limits.refunds_per_customer.sum}}`).
const ROOTS: ReadonlySet<string> = new Set([...CEL_VARIABLES, 'limits']);

// Interpolated values come from the agent; cap them so a payload cannot flood reviewers' screens.
const MAX_VALUE_LENGTH = 200;

export function compileReasonTemplate(text: string): TemplateCompileResult {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const path = match[1] ?? '';
    if (!PATH_PATTERN.test(path)) return { ok: false, message: `reason placeholder {{${path}}} is not a dotted path` };
    const segments = path.split('.');
    if (!ROOTS.has(segments[0] as string)) {
      return { ok: false, message: `reason placeholder {{${path}}} must start with one of ${[...ROOTS].join(', ')}` };
    }
    if (match.index > cursor) parts.push(text.slice(cursor, match.index));
    parts.push(segments);
    cursor = match.index + match[0].length;
  }
  if (cursor < text.length) parts.push(text.slice(cursor));
  const isConstant = parts.every((part) => typeof part === 'string');
  return { ok: true, template: { parts, constant: isConstant ? text : undefined } };
}

export function constantReason(text: string): ReasonTemplate {
  return { parts: [text], constant: text };
}

function lookup(root: object, path: readonly string[]): unknown {
  let value: unknown = root;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function display(value: unknown, redact?: ReadonlySet<string>): string {
  if (value === undefined || value === null) return '';
  const text =
    typeof value === 'object' ? JSON.stringify(value, redact?.size ? (key, inner: unknown) => (redact.has(key) ? REDACTED : inner) : undefined) : String(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}…` : text;
}

export const REDACTED = '[redacted]';

/**
 * LOG_REDACT_PAYLOAD_FIELDS for rendered reasons: a reason is logged, stored as
 * evidence and shown in Slack and email, so a redacted payload field renders as `[redacted]`, and
 * so does the sum of a limit over one.
 */
export interface ReasonRedaction {
  readonly redactPayloadFields: ReadonlySet<string>;
  /** Limit id → its summed field (`payload.amount`). */
  readonly limitSumFields: Readonly<Record<string, string>>;
}

/** Whether a `payload.…` field path names (or lies inside) a redacted field. */
export function isRedactedPayloadPath(path: readonly string[], redact: ReadonlySet<string>): boolean {
  return path[0] === 'payload' && path.slice(1).some((segment) => redact.has(segment));
}

function redactedPart(path: readonly string[], redaction: ReasonRedaction): boolean {
  const fields = redaction.redactPayloadFields;
  if (path[0] === 'payload') return isRedactedPayloadPath(path, fields);
  if (path[0] !== 'limits') return false;
  const sumOfRedacted = (id: string) => isRedactedPayloadPath((redaction.limitSumFields[id] ?? '').split('.'), fields);
  // {{limits.x.sum}}, or {{limits.x}} / {{limits}} rendered whole with such a sum inside.
  if (path.length >= 3) return path[2] === 'sum' && sumOfRedacted(path[1]!);
  return path.length === 2 ? sumOfRedacted(path[1]!) : Object.keys(redaction.limitSumFields).some(sumOfRedacted);
}

/** Values are inserted as text in a single pass: a value containing `{{…}}` is never expanded. */
export function renderReason(template: ReasonTemplate, request: ActionRequest, limits: object = {}, redaction?: ReasonRedaction): string {
  if (template.constant !== undefined) return template.constant;
  const redact = redaction?.redactPayloadFields.size ? redaction : undefined;
  let text = '';
  for (const part of template.parts) {
    if (typeof part === 'string') text += part;
    else if (redact && redactedPart(part, redact)) text += REDACTED;
    else text += display(lookup(part[0] === 'limits' ? { limits } : request, part), part[0] === 'payload' ? redact?.redactPayloadFields : undefined);
  }
  return text;
}
