import type { ASTNode } from '@marcbachmann/cel-js';

function isActionTypeAccess(node: ASTNode): boolean {
  if (node.op !== '.') return false;
  const [target, field] = node.args;
  return field === 'type' && target.op === 'id' && target.args === 'action';
}

function stringLiteral(node: ASTNode): string | undefined {
  return node.op === 'value' && typeof node.args === 'string' ? node.args : undefined;
}

/** The action types one conjunct restricts to, or undefined when it does not constrain the type. */
function conjunctActionTypes(node: ASTNode): string[] | undefined {
  if (node.op === '==') {
    const [left, right] = node.args;
    if (isActionTypeAccess(left)) return wrap(stringLiteral(right));
    if (isActionTypeAccess(right)) return wrap(stringLiteral(left));
    return undefined;
  }
  if (node.op === 'in') {
    const [left, right] = node.args;
    if (!isActionTypeAccess(left) || right.op !== 'list') return undefined;
    const types: string[] = [];
    for (const element of right.args) {
      const literal = stringLiteral(element);
      if (literal === undefined) return undefined;
      types.push(literal);
    }
    return types;
  }
  return undefined;
}

function wrap(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : [value];
}

function topLevelConjuncts(node: ASTNode, into: ASTNode[]): ASTNode[] {
  if (node.op === '&&') {
    topLevelConjuncts(node.args[0], into);
    topLevelConjuncts(node.args[1], into);
  } else {
    into.push(node);
  }
  return into;
}

/**
 * The action types a condition can only be true for, read from a top-level conjunct
 * `action.type == "x"` or `action.type in ["x", "y"]`; undefined when the condition may hold for
 * any type. Conservative: anything else (`||`, negation, computed strings) counts as "any type",
 * so indexing never skips a rule that could have matched.
 */
export function actionTypeGuard(ast: ASTNode): readonly string[] | undefined {
  for (const conjunct of topLevelConjuncts(ast, [])) {
    const types = conjunctActionTypes(conjunct);
    if (types !== undefined) return [...new Set(types)];
  }
  return undefined;
}
