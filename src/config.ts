import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().min(1).optional();

/**
 * Every setting Holdpoint reads from the environment. Parsed once (see `loadConfig`), so a bad
 * value stops start-up with the variable's name instead of failing later.
 */
const environmentShape = z.object({
    HOLDPOINT_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().min(1).default('.data'),

    TEMPORAL_ADDRESS: optionalString.describe('host:port of an existing Temporal frontend; unset in development starts the dev server'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('holdpoint'),
    TEMPORAL_TLS_CERT_PATH: optionalString,
    TEMPORAL_TLS_KEY_PATH: optionalString,
    TEMPORAL_TLS_CA_PATH: optionalString,
    TEMPORAL_API_KEY: optionalString,
    TEMPORAL_UI_URL: z.url().optional(),
    TEMPORAL_DEV_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),

    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('unset in development starts embedded Postgres'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),

    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(8080),
    API_PUBLIC_URL: z.url().optional(),
    API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10 * 1024 * 1024).default(256 * 1024),
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    LOG_REDACT_PAYLOAD_FIELDS: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'comma-separated payload field names')))
      .optional(),

    POLICY_PATH: z.string().min(1).default('policies'),

    EXECUTORS: z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON: {"name": {"url": "https://…", "secrets": ["whsec_…"]}}' });
          return z.NEVER;
        }
      })
      .pipe(z.record(z.string().min(1), z.strictObject({ url: z.url(), secrets: z.array(z.string().min(16)).optional() })))
      .optional(),
    REVIEW_WEBHOOK_URL: z.url().optional(),
    WEBHOOK_SECRETS: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().min(16, 'each secret needs at least 16 characters')).min(1))
      .optional(),
});

export const configSchema = environmentShape.superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together',
      });
    }
    if (env.REVIEW_WEBHOOK_URL && !env.WEBHOOK_SECRETS) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRETS'], message: 'is required when REVIEW_WEBHOOK_URL is set (webhooks are always signed)' });
    }
    if (env.HOLDPOINT_ENV === 'production') {
      for (const name of ['TEMPORAL_ADDRESS', 'DATABASE_URL'] as const) {
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production (no embedded servers)' });
      }
    }
  });

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  env: RawConfig['HOLDPOINT_ENV'];
  logLevel: RawConfig['LOG_LEVEL'];
  dataDir: string;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    tls?: { certPath: string; keyPath: string; caPath?: string };
    apiKey?: string;
    uiUrl?: string;
    devPort: number;
    uiPort: number;
  };
  database: { url?: string; poolMax: number };
  api: { host: string; port: number; publicUrl?: string; bodyLimitBytes: number; rateLimitPerMinute: number };
  /** Payload fields never written to logs (in addition to credentials). */
  redactPayloadFields: string[];
  policyPath: string;
  executors: Record<string, { url: string; secrets?: string[] }>;
  reviewWebhook?: { url: string; secrets: string[] };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the given environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(environmentShape.shape).flatMap((name) => (env[name] === undefined || env[name] === '' ? [] : [[name, env[name]]])),
  );
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return Object.freeze({
    env: c.HOLDPOINT_ENV,
    logLevel: c.LOG_LEVEL,
    dataDir: path.resolve(c.DATA_DIR),
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      tls:
        c.TEMPORAL_TLS_CERT_PATH && c.TEMPORAL_TLS_KEY_PATH
          ? { certPath: c.TEMPORAL_TLS_CERT_PATH, keyPath: c.TEMPORAL_TLS_KEY_PATH, caPath: c.TEMPORAL_TLS_CA_PATH }
          : undefined,
      apiKey: c.TEMPORAL_API_KEY,
      uiUrl: c.TEMPORAL_UI_URL,
      devPort: c.TEMPORAL_DEV_PORT,
      uiPort: c.TEMPORAL_UI_PORT,
    },
    database: { url: c.DATABASE_URL, poolMax: c.DATABASE_POOL_MAX },
    api: {
      host: c.API_HOST,
      port: c.API_PORT,
      publicUrl: c.API_PUBLIC_URL,
      bodyLimitBytes: c.API_BODY_LIMIT_BYTES,
      rateLimitPerMinute: c.API_RATE_LIMIT_PER_MINUTE,
    },
    redactPayloadFields: c.LOG_REDACT_PAYLOAD_FIELDS ?? [],
    policyPath: path.resolve(c.POLICY_PATH),
    executors: c.EXECUTORS ?? {},
    reviewWebhook: c.REVIEW_WEBHOOK_URL ? { url: c.REVIEW_WEBHOOK_URL, secrets: c.WEBHOOK_SECRETS ?? [] } : undefined,
  });
}

/** The names of every environment variable Holdpoint reads (docker-compose is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(environmentShape.shape);
