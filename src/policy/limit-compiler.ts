import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import { actionTypeGuard } from './action-type-guard';
import { compileCondition, limitsEnvironment, type ConditionCompileResult, type LimitTypeSchema } from './cel-environment';
import { DEFAULT_COUNTED_STATUSES, ledgerOf, SCOPE_FIELD_NAMES, type CompiledLimit, type ScopeField } from './limits';
import type { LimitDocument } from './limit-schema';
import type { ValidatedPolicyFile } from './policy-compiler';
import type { PolicyIssue } from './policy-load-error';
import type { TemplateCompileResult } from './reason-template';

/** The policy's limits, and the CEL environment its rules are compiled in. */
export interface LimitCatalog {
  readonly limits: readonly CompiledLimit[];
  readonly byId: ReadonlyMap<string, CompiledLimit>;
  readonly environment: Environment;
}

function scopeField(name: string): ScopeField {
  if ((SCOPE_FIELD_NAMES as readonly string[]).includes(name)) return { name: name as (typeof SCOPE_FIELD_NAMES)[number] };
  return { name, payloadPath: name.split('.').slice(1) };
}

function compileLimit(id: string, file: string, document: LimitDocument): CompiledLimit {
  const scope = document.scope.map(scopeField);
  const actionTypes = document.actions === undefined ? undefined : Object.freeze([...new Set(document.actions)]);
  return Object.freeze({
    id,
    file,
    description: document.description,
    actionTypes,
    scope: Object.freeze(scope),
    window: document.window.text,
    windowMs: document.window.ms,
    sum: document.sum === undefined ? undefined : Object.freeze({ field: document.sum, path: Object.freeze(document.sum.split('.').slice(1)) }),
    statuses: Object.freeze([...new Set(document.statuses ?? DEFAULT_COUNTED_STATUSES)]),
    ledger: ledgerOf(actionTypes, scope, document.sum),
  });
}

/** Collects `limits:` from every file; an id may be declared once across files. */
export function compileLimits(files: readonly ValidatedPolicyFile[]): { catalog: LimitCatalog; issues: PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const byId = new Map<string, CompiledLimit>();
  for (const { source, document } of files) {
    for (const [id, limit] of Object.entries(document.limits ?? {})) {
      const previous = byId.get(id);
      if (previous !== undefined) {
        const position = source.locate(['limits', id]);
        issues.push({ file: source.file, path: `limits.${id}`, line: position?.line, column: position?.column, message: `limit "${id}" is already declared in ${previous.file}` });
        continue;
      }
      byId.set(id, compileLimit(id, source.file, limit));
    }
  }
  const schema: LimitTypeSchema = {};
  for (const [id, limit] of byId) schema[id] = limit.sum === undefined ? { count: 'int' } : { count: 'int', sum: 'double' };
  return { catalog: { limits: Object.freeze([...byId.values()]), byId, environment: limitsEnvironment(schema) }, issues };
}

/** Candidate limits per action type, like rulesByActionType: the type's own plus those counting every type. */
export function indexLimitsByActionType(limits: readonly CompiledLimit[]): {
  limitsByActionType: ReadonlyMap<string, readonly CompiledLimit[]>;
  unfilteredLimits: readonly CompiledLimit[];
} {
  const unfilteredLimits = limits.filter((limit) => limit.actionTypes === undefined);
  const limitsByActionType = new Map<string, CompiledLimit[]>();
  for (const limit of limits) {
    for (const type of limit.actionTypes ?? []) {
      if (!limitsByActionType.has(type)) limitsByActionType.set(type, [...unfilteredLimits]);
      limitsByActionType.get(type)!.push(limit);
    }
  }
  return { limitsByActionType, unfilteredLimits };
}

interface LimitReference {
  id: string;
  start: number;
}

function children(node: ASTNode): ASTNode[] {
  switch (node.op) {
    case 'value':
    case 'id':
      return [];
    case '.':
    case '.?':
      return [node.args[0]];
    case 'call':
      return node.args[1];
    case 'rcall':
      return [node.args[1], ...node.args[2]];
    case 'list':
      return node.args;
    case 'map':
      return node.args.flat();
    case '!_':
    case '-_':
      return [node.args];
    default:
      return [...(node.args as readonly ASTNode[])];
  }
}

function isLimitsVariable(node: ASTNode): boolean {
  return node.op === 'id' && node.args === 'limits';
}

/** `limits.<id>` and `limits["<id>"]`; any other use of `limits` is reported as dynamic. */
function limitReferences(node: ASTNode, found: LimitReference[], dynamic: ASTNode[]): void {
  if ((node.op === '.' || node.op === '.?') && isLimitsVariable(node.args[0])) {
    found.push({ id: node.args[1], start: node.args[0].range.end + 1 });
    return;
  }
  if ((node.op === '[]' || node.op === '[?]') && isLimitsVariable(node.args[0])) {
    const index = node.args[1];
    if (index.op === 'value' && typeof index.args === 'string') found.push({ id: index.args, start: index.range.start });
    else dynamic.push(node);
    return;
  }
  if (isLimitsVariable(node)) {
    dynamic.push(node);
    return;
  }
  for (const child of children(node)) limitReferences(child, found, dynamic);
}

function typeError(message: string, start: number): ConditionCompileResult {
  return { ok: false, kind: 'type', summary: message, message, start };
}

function declaredList(catalog: LimitCatalog): string {
  return catalog.limits.length === 0 ? 'the policy declares no limits' : `declared: ${catalog.limits.map((limit) => limit.id).join(', ')}`;
}

/**
 * A rule's condition, compiled with `limits` typed for this policy. Also refused: an unknown limit,
 * a dynamic `limits[...]`, and a limit that does not count every action type the rule can match
 * (it would be absent there, and the rule would fail closed on actions it was never meant for).
 */
export function compileRuleCondition(catalog: LimitCatalog, expression: string): ConditionCompileResult {
  const compiled = compileCondition(expression, catalog.environment);
  const parsed = compiled.ok ? compiled.condition.ast : parseOnly(catalog, expression);
  if (parsed === undefined) return compiled;
  const references: LimitReference[] = [];
  const dynamic: ASTNode[] = [];
  limitReferences(parsed, references, dynamic);
  for (const reference of references) {
    if (!catalog.byId.has(reference.id)) return typeError(`unknown limit "${reference.id}" (${declaredList(catalog)})`, reference.start);
  }
  const [firstDynamic] = dynamic;
  if (firstDynamic !== undefined) {
    return typeError('read a limit by name: limits.<id>.count or limits.<id>.sum', firstDynamic.range.start);
  }
  if (!compiled.ok) return compiled;
  const ruleTypes = actionTypeGuard(compiled.condition.ast);
  for (const reference of references) {
    const limit = catalog.byId.get(reference.id)!;
    if (limit.actionTypes === undefined) continue;
    const counted = limit.actionTypes.map((type) => JSON.stringify(type)).join(', ');
    if (ruleTypes === undefined) {
      return typeError(`limit "${limit.id}" counts only ${counted}; guard the rule with action.type == ... or action.type in [...] of those types`, reference.start);
    }
    const uncounted = ruleTypes.filter((type) => !limit.actionTypes!.includes(type));
    if (uncounted.length > 0) {
      return typeError(`limit "${limit.id}" counts only ${counted}, but the rule also matches ${uncounted.map((type) => JSON.stringify(type)).join(', ')}`, reference.start);
    }
  }
  return compiled;
}

function parseOnly(catalog: LimitCatalog, expression: string): ASTNode | undefined {
  try {
    return catalog.environment.parse(expression).ast;
  } catch {
    return undefined;
  }
}

/** `{{limits.<id>.count}}` / `{{limits.<id>.sum}}` placeholders name a declared limit and field. */
export function checkLimitPlaceholders(catalog: LimitCatalog, result: TemplateCompileResult): TemplateCompileResult {
  if (!result.ok) return result;
  for (const part of result.template.parts) {
    if (typeof part === 'string' || part[0] !== 'limits') continue;
    const [, id, field, ...rest] = part;
    const limit = id === undefined ? undefined : catalog.byId.get(id);
    if (limit === undefined) return { ok: false, message: `reason placeholder {{${part.join('.')}}} names no declared limit (${declaredList(catalog)})` };
    const fields = limit.sum === undefined ? ['count'] : ['count', 'sum'];
    if (field === undefined || !fields.includes(field) || rest.length > 0) {
      return { ok: false, message: `reason placeholder {{${part.join('.')}}}: limit "${limit.id}" has ${fields.map((f) => `limits.${limit.id}.${f}`).join(' and ')}` };
    }
  }
  return result;
}
