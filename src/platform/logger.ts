import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths never written to logs: credentials, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'password',
  '*.password',
];

export const REDACTED = '[redacted]';
const MAX_DEPTH = 32;

export interface LogRedaction {
  /** LOG_REDACT_PAYLOAD_FIELDS: payload fields never logged, wherever they appear in a log line. */
  redactPayloadFields?: readonly string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of a log object with every property named in `fields` replaced, at any depth (a payload is
 * logged inside notifications, candidates, requests…), and the before/after of an edit diff entry
 * (`{ field, before, after }`) of such a field. Only plain objects and arrays are walked: errors and
 * the raw request are left to their serializers.
 */
export function redactFields(value: unknown, fields: ReadonlySet<string>, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redactFields(item, fields, depth + 1));
  if (!isPlainObject(value)) return value;
  const diffOfRedacted = typeof value.field === 'string' && fields.has(value.field);
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (fields.has(key) || (diffOfRedacted && (key === 'before' || key === 'after'))) copy[key] = REDACTED;
    else copy[key] = redactFields(inner, fields, depth + 1);
  }
  return copy;
}

export function createLogger(level: string, name: string, redaction: LogRedaction = {}, destination?: DestinationStream): Logger {
  const fields = new Set(redaction.redactPayloadFields ?? []);
  return pino(
    {
      name,
      level,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      ...(fields.size > 0 ? { formatters: { log: (object: Record<string, unknown>) => redactFields(object, fields) as Record<string, unknown> } } : {}),
    },
    destination,
  );
}

/** The logger of a Holdpoint process (API, worker, CLI): its level and LOG_REDACT_PAYLOAD_FIELDS from the config. */
export function processLogger(config: { logLevel: string; redactPayloadFields: readonly string[] }, name: string): Logger {
  return createLogger(config.logLevel, name, { redactPayloadFields: config.redactPayloadFields });
}
