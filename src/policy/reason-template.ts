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
const ROOTS: ReadonlySet<string> = new Set(CEL_VARIABLES);

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
      return { ok: false, message: `reason placeholder {{${path}}} must start with one of ${CEL_VARIABLES.join(', ')}` };
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

function lookup(request: ActionRequest, path: readonly string[]): unknown {
  let value: unknown = request;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function display(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}…` : text;
}

/** Values are inserted as text in a single pass: a value containing `{{…}}` is never expanded. */
export function renderReason(template: ReasonTemplate, request: ActionRequest): string {
  if (template.constant !== undefined) return template.constant;
  let text = '';
  for (const part of template.parts) {
    text += typeof part === 'string' ? part : display(lookup(request, part));
  }
  return text;
}
