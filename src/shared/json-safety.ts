/**
 * The JSON Holdpoint accepts: values that Postgres and JavaScript keep exactly as sent.
 * - A lone UTF-16 surrogate or U+0000 cannot be stored in `jsonb`/`text`: every evidence write of
 *   it fails, and a retried write never succeeds.
 * - JSON.parse rounds integers beyond ±(2^53−1) (9007199254740993 becomes …992) and overflows
 *   1e400 to Infinity, which canonical hashing cannot represent: the value recorded and approved
 *   would not be the one sent.
 * Dependency-free, so the API, the MCP servers and workflow code share one definition.
 */

export interface JsonSafetyIssue {
  /** Keys and array indices from the root to the offending value (for a key: to its object). */
  path: (string | number)[];
  message: string;
}

// ES2024 (Node 20 and the workflow sandbox have it); the project's lib is ES2022.
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

function stringProblem(text: string): string | undefined {
  if (!isWellFormed(text)) return 'is not well-formed Unicode (it contains a lone UTF-16 surrogate)';
  if (text.includes('\u0000')) return 'contains U+0000 (NUL), which cannot be stored';
  return undefined;
}

function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'is not a finite number';
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return 'is an integer beyond ±9007199254740991 (2^53−1), which cannot be kept exactly';
  return undefined;
}

/** `body.payload.items.0`: the dotted form problem+json issues and tool errors name fields by. */
export function jsonPath(root: string, path: readonly (string | number)[]): string {
  return [root, ...path.map(String)].join('.');
}

interface PathLink {
  parent: PathLink | undefined;
  segment: string | number;
}

function pathOf(link: PathLink | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = link; at; at = at.parent) path.push(at.segment);
  return path.reverse();
}

type Pending = { value: unknown; at: PathLink | undefined } | { key: string; at: PathLink | undefined };

/**
 * The first value (in document order) that cannot be kept exactly, or undefined. Walks with its
 * own stack, so a deeply nested body (256 KiB allows ~100,000 levels) cannot overflow the call stack.
 */
/**
 * Deeper nesting is refused: hashing, Temporal's payload converter and the evidence store recurse,
 * and 20,000 nested arrays would overflow their stacks long after the request was accepted.
 */
export const MAX_JSON_DEPTH = 64;

function depthOf(link: PathLink | undefined): number {
  let depth = 0;
  for (let at = link; at; at = at.parent) depth += 1;
  return depth;
}

export function findUnsafeJson(root: unknown): JsonSafetyIssue | undefined {
  const pending: Pending[] = [{ value: root, at: undefined }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if ('key' in next) {
      const problem = stringProblem(next.key);
      if (problem) return { path: pathOf(next.at), message: `has a key ${JSON.stringify(next.key)} that ${problem}` };
      continue;
    }
    const { value, at } = next;
    let problem: string | undefined;
    if (typeof value === 'string') problem = stringProblem(value);
    else if (typeof value === 'number') problem = numberProblem(value);
    else if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') problem = 'is not a JSON value';
    else if (value !== null && typeof value === 'object' && depthOf(at) >= MAX_JSON_DEPTH) problem = `nests deeper than ${MAX_JSON_DEPTH} levels`;
    else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push({ value: value[i], at: { parent: at, segment: i } });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        pending.push({ value: child, at: { parent: at, segment: key } }, { key, at });
      }
    }
    if (problem) return { path: pathOf(at), message: problem };
  }
  return undefined;
}
