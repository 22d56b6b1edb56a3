import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../shared/duration';
import { parseOriginEntry } from '../channels/callbacks/callback-target';
import { parseWitness, type Witness } from '../evidence/audit/witness';

const MAX_CHECKPOINT_INTERVAL_MS = 24 * 3_600_000;

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().min(1).optional();
const secretList = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().min(16, 'each secret needs at least 16 characters')).min(1));

/** A TRUST_PROXY entry: a named range express knows, an address or a subnet. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined || !address || !isIP(address)) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(address) === 4 ? 32 : 128));
}

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
    DATABASE_MIGRATION_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('the owner role: runs migrations and grants the DATABASE_URL role its access (which then may only insert and read evidence)'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),

    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(8080),
    API_PUBLIC_URL: z.url().optional(),
    API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10 * 1024 * 1024).default(256 * 1024),
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    TRUST_PROXY: z
      .string()
      .transform((text, ctx): false | number | string[] => {
        const value = text.trim();
        if (value === 'false') return false;
        if (/^\d+$/.test(value)) return Number(value);
        const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
        const bad = entries.filter((entry) => !isProxyEntry(entry));
        if (value === 'true' || entries.length === 0 || bad.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `false, a hop count, or comma-separated proxy addresses/subnets (loopback, linklocal, uniquelocal, 10.0.0.0/8, …)${value === 'true' ? '; true would trust any client\'s X-Forwarded-For' : ''}`,
          });
          return z.NEVER;
        }
        return entries;
      })
      .optional()
      .describe('which proxies may name the client in X-Forwarded-For (rate limits are per client)'),
    LOG_REDACT_PAYLOAD_FIELDS: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'comma-separated payload field names')))
      .optional(),

    METRICS_TOKEN: z.string().min(16, 'needs at least 16 characters').optional().describe('bearer token that may scrape /metrics (admin API keys may too)'),
    METRICS_LABEL_CAP: z.coerce.number().int().min(1).max(1_000).default(50).describe('distinct action-type label values on /metrics; the rest count as "other"'),
    MAX_OPEN_ACTIONS_PER_AGENT: z.coerce.number().int().min(1).max(1_000_000).default(1_000).describe('actions one agent may have open at once; beyond, submissions get 429'),

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

    // Reviewer channels. Agent callbacks need both settings below: their own
    // secrets, never WEBHOOK_SECRETS, and the origins an agent's callbackUrl may name.
    CALLBACK_SECRETS: secretList.optional(),
    CALLBACK_ALLOWED_ORIGINS: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(
        z
          .array(z.string().superRefine((entry, ctx) => {
            const parsed = parseOriginEntry(entry);
            if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
          }))
          .min(1, 'comma-separated origins (https://hooks.example.com, https://*.example.com) or *'),
      )
      .optional()
      .describe('origins an agent callbackUrl may name; loopback/private/metadata addresses only through an origin listed exactly'),
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

    // Metrics, policy shadow mode and audit.
    SHADOW_POLICY_PATH: optionalString.describe('candidate policy directory evaluated beside the live one; differences are recorded, never enforced'),
    AUDIT_SIGNING_KEY_PATH: optionalString.describe('Ed25519 private key (PEM) that signs evidence checkpoints'),
    AUDIT_SIGNING_KEY: optionalString.describe('the same key as PEM text (\\n escapes allowed), for secret stores that inject values'),
    AUDIT_PUBLIC_KEY_PATH: optionalString.describe('Ed25519 public key (PEM): lets `audit verify` run without the private key'),
    AUDIT_WITNESS: z
      .string()
      .superRefine((text, ctx) => {
        const parsed = parseWitness(text);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      })
      .optional()
      .describe('where every signed checkpoint is also sent: an append-only file (absolute path or file: URL) or an http(s) endpoint'),
    AUDIT_WITNESS_TOKEN: z.string().min(16, 'needs at least 16 characters').optional().describe('bearer token for an http(s) AUDIT_WITNESS'),
    AUDIT_UNSIGNED_OK: z
      .enum(['true', 'false'])
      .default('false')
      .describe('true: a production worker runs without signed checkpoints (deleted or truncated evidence then goes undetected)'),
    CHECKPOINT_INTERVAL: z
      .union([
        z.literal('off'),
        z
          .string()
          .regex(DURATION_PATTERN, 'a duration such as 15m, 1h (or off)')
          // A timer longer than 2^31-1 ms fires at once in Node, which would sign in a tight loop.
          .refine((text) => (parseDuration(text) ?? Infinity) <= MAX_CHECKPOINT_INTERVAL_MS, 'at most 24h (or off)'),
      ])
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
    if (env.CALLBACK_SECRETS && !env.CALLBACK_ALLOWED_ORIGINS) {
      ctx.addIssue({ code: 'custom', path: ['CALLBACK_ALLOWED_ORIGINS'], message: 'is required when CALLBACK_SECRETS is set (the origins agent callbacks may reach)' });
    }
    if (env.CALLBACK_ALLOWED_ORIGINS && !env.CALLBACK_SECRETS) {
      ctx.addIssue({ code: 'custom', path: ['CALLBACK_SECRETS'], message: 'is required when CALLBACK_ALLOWED_ORIGINS is set (callbacks are always signed, never with WEBHOOK_SECRETS)' });
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
  database: { url?: string; migrationUrl?: string; poolMax: number };
  api: {
    host: string;
    port: number;
    publicUrl?: string;
    bodyLimitBytes: number;
    rateLimitPerMinute: number;
    trustProxy: false | number | string[];
    maxOpenActionsPerAgent: number;
  };
  /** Payload fields never written to logs (in addition to credentials). */
  redactPayloadFields: string[];
  policyPath: string;
  worker: { maxCachedWorkflows: number };
  executors: Record<string, { url: string; secrets?: string[] }>;
  reviewWebhook?: { url: string; secrets: string[] };
  /** Agent callbacks: absent, a submission naming a callbackUrl is refused and none is sent. */
  callbacks?: { secrets: string[]; allowedOrigins: string[] };
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
    /** AUDIT_UNSIGNED_OK: production may run without signed checkpoints. */
    unsignedOk: boolean;
    /** AUDIT_WITNESS (+ AUDIT_WITNESS_TOKEN): a copy of every checkpoint outside the database. */
    witness?: Witness;
    retentionDays: number;
  };
  metrics: { rubberStampSeconds: number; token?: string; labelCap: number };
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
    database: { url: c.DATABASE_URL, migrationUrl: c.DATABASE_MIGRATION_URL, poolMax: c.DATABASE_POOL_MAX },
    api: {
      host: c.API_HOST,
      port: c.API_PORT,
      publicUrl: c.API_PUBLIC_URL,
      bodyLimitBytes: c.API_BODY_LIMIT_BYTES,
      rateLimitPerMinute: c.API_RATE_LIMIT_PER_MINUTE,
      trustProxy: c.TRUST_PROXY ?? false,
      maxOpenActionsPerAgent: c.MAX_OPEN_ACTIONS_PER_AGENT,
    },
    redactPayloadFields: c.LOG_REDACT_PAYLOAD_FIELDS ?? [],
    policyPath: path.resolve(c.POLICY_PATH),
    worker: { maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS },
    executors: c.EXECUTORS ?? {},
    reviewWebhook: c.REVIEW_WEBHOOK_URL ? { url: c.REVIEW_WEBHOOK_URL, secrets: c.WEBHOOK_SECRETS ?? [] } : undefined,
    callbacks: c.CALLBACK_SECRETS && c.CALLBACK_ALLOWED_ORIGINS ? { secrets: c.CALLBACK_SECRETS, allowedOrigins: c.CALLBACK_ALLOWED_ORIGINS } : undefined,
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
      unsignedOk: c.AUDIT_UNSIGNED_OK === 'true',
      witness: c.AUDIT_WITNESS ? (parseWitness(c.AUDIT_WITNESS, c.AUDIT_WITNESS_TOKEN) as Witness) : undefined,
      retentionDays: c.RETENTION_DAYS,
    },
    metrics: { rubberStampSeconds: c.RUBBER_STAMP_SECONDS, token: c.METRICS_TOKEN, labelCap: c.METRICS_LABEL_CAP },
  });
}

/** The names of every environment variable Holdpoint reads (docker-compose is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(environmentShape.shape);
