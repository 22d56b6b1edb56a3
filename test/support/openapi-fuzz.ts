import fc from 'fast-check';
import type { ApiStack, Caller } from './api-stack';

/* Schema-driven fuzzing of every operation in the API's own OpenAPI document. */

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  additionalProperties?: boolean | Schema;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
type DocumentedResponses = Record<string, { content?: Record<string, { schema?: Schema }> }>;
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: DocumentedResponses;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface FuzzCase {
  method: string;
  path: string;
  auth: Caller | 'none' | 'garbage';
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
  contentType?: string;
}

export interface FuzzOperation {
  method: string;
  template: string;
  arbitrary: fc.Arbitrary<FuzzCase>;
  /** What the document promises this operation answers, to check responses against. */
  responses: DocumentedResponses;
  resolve: (schema: Schema | undefined) => Schema;
}

/** Where `value` breaks `schema` (a JSON Schema subset: the one zod-to-openapi emits). */
export function schemaViolations(schema: Schema, value: unknown, resolve: (s: Schema | undefined) => Schema, at = '$'): string[] {
  const s = resolve(schema);
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (s.anyOf || s.oneOf) {
    const options = (s.anyOf ?? s.oneOf)!;
    return options.some((option) => schemaViolations(option, value, resolve, at).length === 0) ? [] : [`${at}: matches none of the documented alternatives`];
  }
  if (s.allOf) return s.allOf.flatMap((part) => schemaViolations(part, value, resolve, at));
  if (s.const !== undefined && value !== s.const) return [`${at}: expected ${JSON.stringify(s.const)}`];
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of the documented values`];
  if (s.type) {
    const allowed = Array.isArray(s.type) ? s.type : [s.type];
    const actual = typeOf(value);
    const ok = allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
    if (!ok) return [`${at}: expected ${allowed.join('|')}, got ${actual}`];
  }
  const problems: string[] = [];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in record)) problems.push(`${at}.${key}: required but missing`);
    for (const [key, child] of Object.entries(s.properties ?? {})) {
      if (key in record) problems.push(...schemaViolations(child, record[key], resolve, `${at}.${key}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((item, i) => problems.push(...schemaViolations(s.items!, item, resolve, `${at}[${i}]`)));
  return problems;
}

const CALLERS: FuzzCase['auth'][] = ['none', 'garbage', 'agent', 'otherAgent', 'reviewer', 'outsider', 'admin', 'revoked'];
// Long polls are capped so a valid ?wait / ?timeout cannot park the run for a minute.
const LONG_POLL_PARAMS = new Set(['wait', 'timeout']);

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '-1', '1e309', 'NaN', 'null', 'true', '[]', '{}', "' OR 1=1 --", '../../etc/passwd', '%00', 'a\u0000b', '\u202e', '😀'.repeat(3), 'a'.repeat(1_000)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const junkJson = fc.jsonValue({ maxDepth: 3 });

export function operationsOf(doc: OpenApiDocument, actionIds: string[]): FuzzOperation[] {
  const resolve = (schema: Schema | undefined, depth = 0): Schema => {
    if (!schema) return {};
    if (schema.$ref && depth < 10) return resolve(doc.components?.schemas?.[schema.$ref.split('/').pop() ?? ''], depth + 1);
    return schema;
  };

  /** Values that mostly satisfy the schema, with type-correct near misses. */
  const fromSchema = (raw: Schema | undefined, depth = 0): fc.Arbitrary<unknown> => {
    const schema = resolve(raw);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: junkString });
    const union = schema.anyOf ?? schema.oneOf;
    if (union?.length) return fc.oneof(...union.map((s) => fromSchema(s, depth + 1)));
    if (schema.allOf?.length) return fromSchema(schema.allOf[0], depth + 1);
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    if (depth > 4) return junkJson;
    switch (type) {
      case 'object': {
        const props = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const record = Object.fromEntries(Object.entries(props).map(([key, value]) => [key, fromSchema(value, depth + 1)]));
        const known = Object.keys(props).length
          ? fc.record(record, { requiredKeys: [...required].filter((key) => key in props) })
          : fc.dictionary(fc.string({ maxLength: 10 }), junkJson, { maxKeys: 4 });
        // Sometimes an unknown field, sometimes a required one missing.
        return fc.oneof(
          { weight: 6, arbitrary: known },
          { weight: 1, arbitrary: fc.tuple(known, fc.string({ minLength: 1, maxLength: 8 }), junkJson).map(([o, k, v]) => ({ ...(o as object), [k]: v })) },
          { weight: 1, arbitrary: known.map((o) => Object.fromEntries(Object.entries(o as object).slice(1))) },
        );
      }
      case 'array':
        return fc.array(fromSchema(schema.items, depth + 1), { maxLength: 4 });
      case 'integer':
      case 'number':
        return fc.oneof(
          fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 10_000, 10_000) }),
          fc.constantFrom(-1, 0, 1, 2 ** 53, -(2 ** 31), 1.5),
          fc.double({ noNaN: true }),
        );
      case 'boolean':
        return fc.boolean();
      case 'string': {
        if (schema.format === 'date-time') return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), junkString);
        if (schema.format === 'uri') return fc.oneof(fc.webUrl(), junkString);
        if (schema.pattern) {
          try {
            return fc.oneof({ weight: 3, arbitrary: fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 200)) }, { weight: 1, arbitrary: junkString });
          } catch {
            return junkString;
          }
        }
        return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 60) }), junkString);
      }
      default:
        return junkJson;
    }
  };

  const queryValue = (parameter: Parameter): fc.Arbitrary<string> =>
    LONG_POLL_PARAMS.has(parameter.name)
      ? fc.oneof(fc.constantFrom('0', '1', '61', '-1', '1.5', 'abc', ''), junkString)
      : fc.oneof({ weight: 3, arbitrary: fromSchema(parameter.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')) }, { weight: 1, arbitrary: junkString });

  const pathValue = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...actionIds) },
    { weight: 1, arbitrary: fc.constantFrom('action-11-support-bot-nope', 'action-', 'action-%2e%2e', '%00', 'action-x%0a', "action-'or'1'='1") },
    { weight: 1, arbitrary: junkString.map((s) => encodeURIComponent(s) || 'x') },
  );

  const operations: FuzzOperation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = operation.parameters ?? [];
      const query = parameters.filter((p) => p.in === 'query');
      const queryArb = fc
        .tuple(
          // ?timeout defaults to 30 s, so it is always sent (capped) rather than left to its default.
          fc.record(Object.fromEntries(query.map((p) => [p.name, queryValue(p)])), { requiredKeys: query.filter((p) => p.name === 'timeout').map((p) => p.name) }),
          fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), junkString), { freq: 6 }),
        )
        .map(([known, extra]) => (extra ? { ...known, [extra[0]]: extra[1] } : known) as Record<string, string>);
      const paramNames = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const pathArb = fc.tuple(...paramNames.map(() => pathValue)).map((values) => values.reduce((p, v, i) => p.replace(`{${paramNames[i]}}`, v), template));
      const content = operation.requestBody?.content ?? {};
      const mediaType = content['application/json'] ? 'application/json' : Object.keys(content)[0];
      const bodySchema = mediaType ? content[mediaType]?.schema : undefined;
      const encode = (value: unknown): string =>
        mediaType === 'application/x-www-form-urlencoded' && value && typeof value === 'object'
          ? new URLSearchParams(Object.entries(value as object).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : String(JSON.stringify(v))])).toString()
          : JSON.stringify(value);
      const bodyArb: fc.Arbitrary<{ body?: string; contentType?: string }> = mediaType
        ? fc.oneof(
            { weight: 8, arbitrary: fromSchema(bodySchema).map((v) => ({ body: encode(v), contentType: mediaType })) },
            { weight: 1, arbitrary: junkJson.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })) },
            { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', 'null', '[]', '"x"', '{"__proto__":{"admin":true}}', '{"agent":1e999}').map((body) => ({ body, contentType: 'application/json' })) },
            { weight: 1, arbitrary: junkString.map((body) => ({ body: body || 'x', contentType: fc.sample(fc.constantFrom('text/plain', 'application/xml'), 1)[0] })) },
            { weight: 1, arbitrary: fc.constant({}) },
          )
        : fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: junkJson.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })) });
      const headerArb = fc.record(
        {
          'idempotency-key': fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/), junkString.filter((s) => /^[\x20-\x7e]*$/.test(s))),
          'x-request-id': fc.oneof(fc.uuid(), junkString.filter((s) => /^[\x20-\x7e]*$/.test(s))),
        },
        { requiredKeys: [] },
      );
      const arbitrary = fc.record({ path: pathArb, query: queryArb, auth: fc.constantFrom(...CALLERS), headers: headerArb, body: bodyArb }).map(
        ({ path, query, auth, headers, body }): FuzzCase => ({ method: method.toUpperCase(), path, query, auth, headers, ...body }),
      );
      operations.push({ method: method.toUpperCase(), template, arbitrary, responses: operation.responses ?? {}, resolve });
    }
  }
  return operations;
}

export interface FuzzResult {
  status: number;
  contentType: string;
  body: string;
}

export async function send(stack: ApiStack, fuzz: FuzzCase): Promise<FuzzResult> {
  const search = new URLSearchParams(fuzz.query).toString();
  const headers: Record<string, string> = { ...fuzz.headers };
  if (fuzz.contentType) headers['content-type'] = fuzz.contentType;
  if (fuzz.auth === 'garbage') headers.authorization = 'Bearer hp_deadbeef_' + 'A'.repeat(43);
  else if (fuzz.auth !== 'none') headers.authorization = `Bearer ${stack.keys[fuzz.auth]}`;
  const response = await fetch(`${stack.baseUrl}${fuzz.path}${search ? `?${search}` : ''}`, {
    method: fuzz.method,
    headers,
    body: fuzz.method === 'GET' ? undefined : fuzz.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  }).catch((err: Error) => {
    throw Object.assign(new Error(`${err.message}: ${JSON.stringify(fuzz).slice(0, 1_500)}`), { fuzz });
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

export interface FuzzReport {
  cases: number;
  byStatus: Record<string, number>;
  byOperation: Record<string, number>;
  serverErrors: { fuzz: FuzzCase; result: FuzzResult }[];
  notProblemJson: { fuzz: FuzzCase; result: FuzzResult }[];
  /** Answers the document does not describe: an undocumented status, or a JSON body off its schema. */
  offSchema: { fuzz: FuzzCase; status: number; problems: string[] }[];
  recordedOnRejection: { fuzz: FuzzCase; before: unknown; after: unknown }[];
  /** Requests with no answer within 15 s. */
  hung: { fuzz: FuzzCase; error: string }[];
  ms: number;
}

/**
 * Runs `total` cases spread evenly over the operations, sequentially (so a rejected request can
 * be checked for writes). Actions rows are compared around every 4xx; events are compared for the
 * targeted action when it is already terminal (nothing else may append to it).
 */
export async function runFuzz(stack: ApiStack, operations: FuzzOperation[], total: number, seed: number): Promise<FuzzReport> {
  const report: FuzzReport = { cases: 0, byStatus: {}, byOperation: {}, serverErrors: [], notProblemJson: [], offSchema: [], recordedOnRejection: [], hung: [], ms: 0 };
  const started = Date.now();
  const perOperation = Math.ceil(total / operations.length);
  const terminal = new Set<string>(
    (await stack.db.pool.query<{ id: string }>(`SELECT id FROM actions WHERE status IN ('denied','expired','cancelled','auto_denied','executed','execution_failed','mismatch','unconfirmed')`)).rows.map((r) => r.id),
  );
  const snapshot = async (path: string) => {
    const id = /\/v1\/actions\/(action-[^/?]+)/.exec(path)?.[1];
    const { rows } = await stack.db.pool.query<{ actions: number; events: number }>(
      'SELECT (SELECT count(*)::int FROM actions) AS actions, (SELECT count(*)::int FROM action_events WHERE action_id = $1) AS events',
      [id && terminal.has(id) ? id : ''],
    );
    return rows[0]!;
  };
  let index = 0;
  for (const operation of operations) {
    const cases = fc.sample(operation.arbitrary, { numRuns: perOperation, seed: seed + index++ });
    for (const fuzz of cases) {
      if (report.cases >= total) break;
      const before = await snapshot(fuzz.path);
      let result: FuzzResult;
      try {
        result = await send(stack, fuzz);
      } catch (err) {
        report.hung.push({ fuzz, error: (err as Error).message.slice(0, 200) });
        continue;
      }
      report.cases += 1;
      report.byStatus[result.status] = (report.byStatus[result.status] ?? 0) + 1;
      const name = `${operation.method} ${operation.template}`;
      report.byOperation[name] = (report.byOperation[name] ?? 0) + 1;
      if (result.status >= 500) report.serverErrors.push({ fuzz, result });
      if (result.status >= 400 && !result.contentType.startsWith('application/problem+json')) report.notProblemJson.push({ fuzz, result });
      const documented = operation.responses[String(result.status)] ?? operation.responses.default;
      if (!documented) report.offSchema.push({ fuzz, status: result.status, problems: [`status ${result.status} is not documented`] });
      else {
        const mediaType = result.contentType.split(';')[0]!.trim();
        const schema = documented.content?.[mediaType]?.schema;
        if (schema && mediaType.endsWith('json')) {
          const problems = schemaViolations(schema, JSON.parse(result.body), operation.resolve);
          if (problems.length) report.offSchema.push({ fuzz, status: result.status, problems: problems.slice(0, 5) });
        }
      }
      if (result.status >= 400 && result.status < 500) {
        const after = await snapshot(fuzz.path);
        if (after.actions !== before.actions || after.events !== before.events) report.recordedOnRejection.push({ fuzz, before, after });
      }
    }
  }
  report.ms = Date.now() - started;
  return report;
}
