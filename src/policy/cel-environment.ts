import { Environment, type ASTNode } from '@marcbachmann/cel-js';

/** The request, as CEL sees it. `context` is always present (`{}` when the request has none). */
export interface CelActivation {
  agent: object;
  action: object;
  resource: object;
  payload: object;
  context: object;
  /** `limits.<id>.count` / `.sum`: the policy's windowed aggregates for this request (see limits.ts). */
  limits?: object;
}

export const CEL_VARIABLES: readonly (keyof CelActivation)[] = ['agent', 'action', 'resource', 'payload', 'context'];

export type CompiledCondition = ((activation: CelActivation) => unknown) & { ast: ASTNode };

export type ConditionCompileResult =
  | { ok: true; condition: CompiledCondition }
  | { ok: false; kind: 'syntax' | 'type'; summary: string; message: string; start?: number; end?: number };

type Arithmetic = (left: number, right: number) => number;

const MIXED_ARITHMETIC: ReadonlyArray<[string, Arithmetic]> = [
  ['+', (left, right) => left + right],
  ['-', (left, right) => left - right],
  ['*', (left, right) => left * right],
  ['/', (left, right) => left / right],
];

/**
 * cel-js types every JS number as `double` and every literal like `100` as `int`. Comparisons
 * across the two already work (`payload.amount > 100` for 150 and 150.5), but arithmetic does not
 * (`payload.amount * 2`). Registering int/double arithmetic keeps JSON numbers as they are — no
 * per-request conversion of the payload to BigInt — and makes ordinary expressions work.
 */
function createPolicyEnvironment(): Environment {
  const environment = new Environment();
  for (const name of CEL_VARIABLES) environment.registerVariable(name, 'map');
  for (const [operator, apply] of MIXED_ARITHMETIC) {
    environment.registerOperator(`double ${operator} int: double`, (left: number, right: bigint) => apply(left, Number(right)));
    environment.registerOperator(`int ${operator} double: double`, (left: bigint, right: number) => apply(Number(left), right));
  }
  return environment;
}

let sharedEnvironment: Environment | undefined;

/** CEL type of one limit: `count` always, `sum` only for limits that sum a field. */
export type LimitTypeSchema = Record<string, { count: 'int'; sum?: 'double' }>;

// Creating an Environment is the expensive part; every policy shares one.
function policyEnvironment(): Environment {
  sharedEnvironment ??= createPolicyEnvironment();
  return sharedEnvironment;
}

interface CelErrorShape {
  name?: string;
  message?: string;
  summary?: string;
  range?: { start: number; end: number };
}

function describeCelError(error: unknown, kind: 'syntax' | 'type'): ConditionCompileResult {
  const shape = (error ?? {}) as CelErrorShape;
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  return {
    ok: false,
    kind,
    summary: shape.summary ?? message.split('\n')[0] ?? message,
    message,
    start: shape.range?.start,
    end: shape.range?.end,
  };
}

/**
 * The shared environment plus a typed `limits` variable for one policy's limits, so a misspelt
 * limit, a `sum` of a limit that only counts, or `limits.x.sum > "500"` is a type error at load.
 */
export function limitsEnvironment(schema: LimitTypeSchema): Environment {
  return policyEnvironment().clone().registerVariable({ name: 'limits', schema });
}

/**
 * Parses and type-checks once. Type-checking here also caches the checked types on the AST, so
 * evaluation does not re-check the expression on every call.
 */
export function compileCondition(expression: string, environment: Environment = policyEnvironment()): ConditionCompileResult {
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = environment.parse(expression);
  } catch (error) {
    return describeCelError(error, 'syntax');
  }
  const checked = parsed.check();
  if (!checked.valid) return describeCelError(checked.error, 'type');
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return {
      ok: false,
      kind: 'type',
      summary: `condition must be a boolean expression, got ${checked.type}`,
      message: `condition must be a boolean expression, got ${checked.type}`,
    };
  }
  return { ok: true, condition: parsed as CompiledCondition };
}
