import path from 'node:path';
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './policy/duration';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().min(1).optional();
const secretList = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().min(16, 'each secret needs at least 16 characters')).min(1));

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

    // The SDK's default sizes the cache from the heap limit (~2,300 runs at 4 GiB), and each cached
    // run costs ~0.4 MiB outside the JS heap; an evicted pending action only replays its short
    // history when a decision arrives, so a bounded cache is the cheaper trade.
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce
      .number()
      .int()
      .min(0)
      .max(100_000)
      .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
      .default(500),

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

    // Reviewer channels (issue 5). Agent callbacks are signed with CALLBACK_SECRETS, else WEBHOOK_SECRETS.
    CALLBACK_SECRETS: secretList.optional(),
    SLACK_BOT_TOKEN: optionalString.describe('xoxb-… bot token; enables the Slack channel'),
    SLACK_SIGNING_SECRET: optionalString.describe('verifies Slack interactivity requests'),
    SLACK_CHANNEL: optionalString.describe('channel id for review messages; unset: direct messages to each reviewer'),
    SLACK_API_URL: z.url().optional().describe('Slack Web API base URL (tests point it at a local server)'),
    SMTP_HOST: optionalString.describe('enables the email channel'),
    SMTP_PORT: port.default(587),
    SMTP_SECURE: z.enum(['true', 'false']).default('false').describe('true: TLS from the start (port 465); false: STARTTLS when offered'),
    SMTP_USER: optionalString,
    SMTP_PASSWORD: optionalString,
    SMTP_FROM: z.string().min(3).default('Holdpoint <holdpoint@localhost>'),
    EMAIL_TOKEN_SECRET: z.string().min(32, 'needs at least 32 characters').optional().describe('signs one-click email decision links'),
    CONSOLE_SESSION_HOURS: z.coerce.number().min(0.25).max(24 * 7).default(8),

    // Metrics, policy shadow mode and audit (issue 6).
    SHADOW_POLICY_PATH: optionalString.describe('candidate policy directory evaluated beside the live one; differences are recorded, never enforced'),
    AUDIT_SIGNING_KEY_PATH: optionalString.describe('Ed25519 private key (PEM) that signs evidence checkpoints'),
    AUDIT_SIGNING_KEY: optionalString.describe('the same key as PEM text (\\n escapes allowed), for secret stores that inject values'),
    AUDIT_PUBLIC_KEY_PATH: optionalString.describe('Ed25519 public key (PEM): lets `audit verify` run without the private key'),
    CHECKPOINT_INTERVAL: z
      .union([z.literal('off'), z.string().regex(DURATION_PATTERN, 'a duration such as 15m, 1h (or off)')])
      .default('15m')
      .describe('how often the worker signs the chain heads'),
    RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(400).describe('`audit prune` removes completed actions older than this'),
    RUBBER_STAMP_SECONDS: z.coerce.number().int().min(1).max(3_600).default(10).describe('approvals faster than this count as rubber stamps'),
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
    if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required when SLACK_BOT_TOKEN is set (interactivity requests are verified)' });
    }
    if (env.SMTP_HOST && !env.EMAIL_TOKEN_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_TOKEN_SECRET'], message: 'is required when SMTP_HOST is set (email decision links are signed)' });
    }
    if (env.AUDIT_SIGNING_KEY_PATH && env.AUDIT_SIGNING_KEY) {
      ctx.addIssue({ code: 'custom', path: ['AUDIT_SIGNING_KEY'], message: 'set either AUDIT_SIGNING_KEY_PATH or AUDIT_SIGNING_KEY, not both' });
    }
    if (Boolean(env.SMTP_USER) !== Boolean(env.SMTP_PASSWORD)) {
      ctx.addIssue({ code: 'custom', path: [env.SMTP_USER ? 'SMTP_PASSWORD' : 'SMTP_USER'], message: 'SMTP_USER and SMTP_PASSWORD must be set together' });
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
  worker: { maxCachedWorkflows: number };
  executors: Record<string, { url: string; secrets?: string[] }>;
  reviewWebhook?: { url: string; secrets: string[] };
  /** Signs the final outcome sent to an action's callbackUrl; empty: callbacks are not sent. */
  callbackSecrets: string[];
  slack?: { botToken: string; signingSecret: string; channel?: string; apiUrl?: string };
  email?: {
    smtp: { host: string; port: number; secure: boolean; auth?: { user: string; pass: string } };
    from: string;
    tokenSecret: string;
  };
  console: { sessionHours: number };
  /** Candidate policy directory for shadow mode; absent: shadow mode is off. */
  shadowPolicyPath?: string;
  audit: {
    signingKeyPath?: string;
    signingKey?: string;
    publicKeyPath?: string;
    /** 0: no periodic checkpoints. */
    checkpointIntervalMs: number;
    retentionDays: number;
  };
  metrics: { rubberStampSeconds: number };
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
    worker: { maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS },
    executors: c.EXECUTORS ?? {},
    reviewWebhook: c.REVIEW_WEBHOOK_URL ? { url: c.REVIEW_WEBHOOK_URL, secrets: c.WEBHOOK_SECRETS ?? [] } : undefined,
    callbackSecrets: c.CALLBACK_SECRETS ?? c.WEBHOOK_SECRETS ?? [],
    slack:
      c.SLACK_BOT_TOKEN && c.SLACK_SIGNING_SECRET
        ? { botToken: c.SLACK_BOT_TOKEN, signingSecret: c.SLACK_SIGNING_SECRET, channel: c.SLACK_CHANNEL, apiUrl: c.SLACK_API_URL }
        : undefined,
    email:
      c.SMTP_HOST && c.EMAIL_TOKEN_SECRET
        ? {
            smtp: {
              host: c.SMTP_HOST,
              port: c.SMTP_PORT,
              secure: c.SMTP_SECURE === 'true',
              auth: c.SMTP_USER && c.SMTP_PASSWORD ? { user: c.SMTP_USER, pass: c.SMTP_PASSWORD } : undefined,
            },
            from: c.SMTP_FROM,
            tokenSecret: c.EMAIL_TOKEN_SECRET,
          }
        : undefined,
    console: { sessionHours: c.CONSOLE_SESSION_HOURS },
    shadowPolicyPath: c.SHADOW_POLICY_PATH ? path.resolve(c.SHADOW_POLICY_PATH) : undefined,
    audit: {
      signingKeyPath: c.AUDIT_SIGNING_KEY_PATH ? path.resolve(c.AUDIT_SIGNING_KEY_PATH) : undefined,
      signingKey: c.AUDIT_SIGNING_KEY,
      publicKeyPath: c.AUDIT_PUBLIC_KEY_PATH ? path.resolve(c.AUDIT_PUBLIC_KEY_PATH) : undefined,
      checkpointIntervalMs: c.CHECKPOINT_INTERVAL === 'off' ? 0 : (parseDuration(c.CHECKPOINT_INTERVAL) ?? 0),
      retentionDays: c.RETENTION_DAYS,
    },
    metrics: { rubberStampSeconds: c.RUBBER_STAMP_SECONDS },
  });
}

/** The names of every environment variable Holdpoint reads (docker-compose is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(environmentShape.shape);
