import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';

/** Upper bounds of the review response histogram; the roll-up trigger (migration 004) uses the same. */
export const REVIEW_RESPONSE_BUCKETS = [5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400] as const;
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Statuses an action can wait in; each is a gauge series (zero included, so series never vanish). */
const OPEN_STATUSES = ['classifying', 'pending_review', 'approved', 'allowed', 'executing', 'awaiting_report'] as const;
/** One store read serves every collector of a scrape. */
const SNAPSHOT_TTL_MS = 1_000;

interface RollupRow {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

interface StoreSnapshot {
  rollups: RollupRow[];
  open: Record<string, number>;
  overdue: number;
  /** Actions in a status the workflow passes through in seconds, not updated for STALLED_AFTER. */
  stalled: number;
  lastCheckpointSeconds: number | null;
}

/** Statuses that only last while a step is being recorded or run: long in one means it cannot progress. */
const TRANSIENT_STATUSES = ['classifying', 'approved', 'allowed', 'executing'];
const STALLED_AFTER = '10 minutes';

export interface PrometheusMetrics {
  registry: Registry;
  /** Times every API request by route template (never by concrete path: no ids in labels). */
  httpLatency: RequestHandler;
}

/** Labels whose values callers choose (agents name action types): bounded, the rest counted as `other`. */
const BOUNDED_LABELS: ReadonlySet<string> = new Set(['action_type', 'agent']);
const OTHER = 'other';

export interface PrometheusOptions {
  pool: Pool;
  /** METRICS_LABEL_CAP: distinct values a bounded label keeps per metric (default 50). */
  labelCap?: number;
  /** Values kept first (the action types the loaded policy names); the rest by count, up to the cap. */
  preferredLabelValues?: () => Iterable<string>;
}

/**
 * Which values of `label` keep their own series: those `preferred` names first (in name order),
 * then the most counted, `cap` in all. An agent inventing action types then costs Prometheus at
 * most `cap` series per metric however many it invents (issue 15, defect 2).
 */
function keptLabelValues(rows: readonly RollupRow[], label: string, cap: number, preferred: ReadonlySet<string>): ReadonlySet<string> {
  const totals = new Map<string, number>();
  for (const row of rows) {
    const value = String(row.labels[label] ?? 'unknown');
    totals.set(value, (totals.get(value) ?? 0) + row.value);
  }
  if (totals.size <= cap) return new Set(totals.keys());
  const named = [...totals.keys()].filter((value) => preferred.has(value)).sort();
  const rest = [...totals.keys()].filter((value) => !preferred.has(value)).sort((a, b) => totals.get(b)! - totals.get(a)! || (a < b ? -1 : 1));
  return new Set([...named, ...rest].slice(0, cap));
}

/**
 * `GET /metrics`. API latency is observed in-process. Action, review, execution and notification
 * series come from `metric_rollups`, which a trigger fills as evidence is stored: exactly once per
 * event, identical on every replica, unaffected by restarts (aggregate replicas with max, not sum).
 * Gauges of waiting work are counted from the actions table through its status index.
 */
export function createPrometheusMetrics({ pool, labelCap = 50, preferredLabelValues = () => [] }: PrometheusOptions): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  let snapshot: { at: number; value: Promise<StoreSnapshot> } | undefined;
  const read = (): Promise<StoreSnapshot> => {
    if (!snapshot || Date.now() - snapshot.at > SNAPSHOT_TTL_MS) {
      const value = readStore(pool);
      snapshot = { at: Date.now(), value };
      // A failed read must not be served from cache to the next scrape.
      value.catch(() => {
        if (snapshot?.value === value) snapshot = undefined;
      });
    }
    return snapshot.value;
  };
  const rollups = async (metric: string) => (await read()).rollups.filter((row) => row.metric === metric);

  const httpDuration = new Histogram({
    name: 'holdpoint_http_request_duration_seconds',
    help: 'API request latency by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });

  const storeCounter = (name: string, help: string, metric: string, labelNames: string[]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const rows = await rollups(metric);
        const preferred = new Set(preferredLabelValues());
        const kept = new Map(labelNames.filter((name) => BOUNDED_LABELS.has(name)).map((name) => [name, keptLabelValues(rows, name, labelCap, preferred)]));
        this.reset();
        for (const row of rows) {
          const labels = pick(row.labels, labelNames);
          for (const [name, values] of kept) if (!values.has(labels[name]!)) labels[name] = OTHER;
          this.inc(labels, row.value);
        }
      },
    });
  storeCounter('holdpoint_actions_decided_total', 'Actions decided, by action type, risk tier and outcome', 'actions_decided_total', ['action_type', 'risk', 'outcome']);
  storeCounter('holdpoint_actions_completed_total', 'Workflows finished, by final status', 'actions_completed_total', ['status']);
  storeCounter('holdpoint_review_escalations_total', 'Reviews escalated, by the tier escalated to', 'review_escalations_total', ['tier']);
  storeCounter('holdpoint_executions_total', 'Execution results after approval: succeeded, failed, reported, mismatch, unconfirmed', 'executions_total', ['result']);
  storeCounter('holdpoint_break_glass_total', 'Admin approvals outside the routed tiers (break-glass), by action type', 'break_glass_total', ['action_type']);
  storeCounter('holdpoint_actions_failed_total', 'Actions ended because a step could not be recorded (permanent data error)', 'actions_failed_total', []);
  storeCounter('holdpoint_notifications_total', 'Reviewer notifications, by result', 'notifications_total', ['result']);

  registry.registerMetric(
    new RolledUpHistogram(
      {
        name: 'holdpoint_review_response_seconds',
        help: 'Time from a reviewer being asked to their vote, by verdict',
        labelNames: ['verdict'],
        buckets: [...REVIEW_RESPONSE_BUCKETS],
        registers: [],
      },
      async () => ({ buckets: await rollups('review_response_seconds_bucket'), sums: await rollups('review_response_seconds_sum') }),
    ),
  );

  new Gauge({
    name: 'holdpoint_actions_open',
    help: 'Actions waiting in each non-final status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { open } = await read();
      for (const status of OPEN_STATUSES) this.set({ status }, open[status] ?? 0);
    },
  });
  new Gauge({
    name: 'holdpoint_reviews_overdue',
    help: 'Pending reviews past their current tier deadline',
    registers: [registry],
    async collect() {
      this.set((await read()).overdue);
    },
  });
  new Gauge({
    name: 'holdpoint_actions_stalled',
    help: `Actions stuck for over ${STALLED_AFTER} in a status that should pass in seconds (a step cannot be recorded or run); the worker logs each`,
    registers: [registry],
    async collect() {
      this.set((await read()).stalled);
    },
  });
  new Gauge({
    name: 'holdpoint_audit_last_checkpoint_timestamp_seconds',
    help: 'When the newest signed evidence checkpoint was taken (0: never); alert when it stops advancing',
    registers: [registry],
    async collect() {
      this.set((await read()).lastCheckpointSeconds ?? 0);
    },
  });

  const httpLatency: RequestHandler = (req, res, next) => {
    const stop = httpDuration.startTimer();
    res.once('finish', () => {
      // The matched route template; unmatched paths share one label value.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  return { registry, httpLatency };
}

async function readStore(pool: Pool): Promise<StoreSnapshot> {
  const [rollups, open, overdue, stalled, checkpoint] = await Promise.all([
    pool.query<RollupRow>('SELECT metric, labels, sum(value)::float8 AS value FROM metric_rollups GROUP BY metric, labels'),
    pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM actions WHERE status = ANY($1::text[]) GROUP BY status', [OPEN_STATUSES]),
    pool.query<{ n: number }>("SELECT count(*)::int AS n FROM actions WHERE status = 'pending_review' AND review_due_at < now()"),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE status = ANY($1::text[]) AND updated_at < now() - interval '${STALLED_AFTER}'`, [TRANSIENT_STATUSES]),
    pool.query<{ at: number }>('SELECT extract(epoch FROM created_at)::float8 AS at FROM audit_checkpoints ORDER BY id DESC LIMIT 1'),
  ]);
  return {
    rollups: rollups.rows,
    open: Object.fromEntries(open.rows.map((row) => [row.status, row.n])),
    overdue: overdue.rows[0]?.n ?? 0,
    stalled: stalled.rows[0]?.n ?? 0,
    lastCheckpointSeconds: checkpoint.rows[0]?.at ?? null,
  };
}

function pick(labels: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, String(labels[name] ?? 'unknown')]));
}

type HistogramSource = () => Promise<{ buckets: RollupRow[]; sums: RollupRow[] }>;

/**
 * A histogram whose buckets are counted in Postgres (non-cumulative, one row per `le`). prom-client
 * histograms only accept observations, so this one renders the stored counts in the same format.
 */
class RolledUpHistogram extends Histogram<string> {
  private readonly metricName: string;
  private readonly helpText: string;
  private readonly bounds: number[];

  constructor(
    config: ConstructorParameters<typeof Histogram<string>>[0] & { buckets: number[] },
    private readonly source: HistogramSource,
  ) {
    super(config);
    this.metricName = config.name;
    this.helpText = config.help;
    this.bounds = config.buckets;
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const { buckets, sums } = await this.source();
    const series = new Map<string, { counts: Map<string, number>; sum: number }>();
    const entry = (verdict: string) => {
      let found = series.get(verdict);
      if (!found) series.set(verdict, (found = { counts: new Map(), sum: 0 }));
      return found;
    };
    for (const row of buckets) {
      const counts = entry(row.labels.verdict ?? 'unknown').counts;
      counts.set(row.labels.le ?? '+Inf', (counts.get(row.labels.le ?? '+Inf') ?? 0) + row.value);
    }
    for (const row of sums) entry(row.labels.verdict ?? 'unknown').sum += row.value;
    const values: MetricValueWithName<string>[] = [];
    for (const [verdict, { counts, sum }] of [...series].sort(([a], [b]) => (a < b ? -1 : 1))) {
      let cumulative = 0;
      for (const bound of this.bounds) {
        cumulative += counts.get(String(bound)) ?? 0;
        values.push({ labels: { verdict, le: bound }, value: cumulative, metricName: `${this.metricName}_bucket` });
      }
      cumulative += counts.get('+Inf') ?? 0;
      values.push({ labels: { verdict, le: '+Inf' }, value: cumulative, metricName: `${this.metricName}_bucket` });
      values.push({ labels: { verdict }, value: sum, metricName: `${this.metricName}_sum` });
      values.push({ labels: { verdict }, value: cumulative, metricName: `${this.metricName}_count` });
    }
    return { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }

  /** The registry renders text through this when present. */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }
}
