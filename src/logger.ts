import pino, { type Logger } from 'pino';

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

export function createLogger(level: string, name: string, extraRedact: string[] = []): Logger {
  return pino({ name, level, redact: { paths: [...REDACTED_PATHS, ...extraRedact], censor: '[redacted]' } });
}
