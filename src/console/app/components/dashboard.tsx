import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { holdpoint } from '../api';
import { formatTime, RISK_LABEL, statusLabel } from '../format';
import { usePolling } from '../hooks';
import type { ConsolePrincipal, MetricsReport } from '../../../shared/wire-types';

const RANGES = [7, 30, 90] as const;
type Range = (typeof RANGES)[number];
const DAY_MS = 86_400_000;

/** Outcomes of `volumeOverTime`, bottom of the stack first, with colours that read on white. */
const OUTCOMES: { key: string; label: string; color: string }[] = [
  { key: 'allowed', label: statusLabel('allowed'), color: '#0d9488' },
  { key: 'approved', label: 'Approved', color: '#16a34a' },
  { key: 'denied', label: 'Denied', color: '#dc2626' },
  { key: 'auto_denied', label: statusLabel('auto_denied'), color: '#ea580c' },
  { key: 'expired', label: 'Expired', color: '#64748b' },
  { key: 'cancelled', label: 'Cancelled', color: '#a1a1aa' },
  { key: 'pending', label: 'Pending', color: '#2563eb' },
];
/** Upper bounds of the response-time histogram (same as the API's). */
const RESPONSE_BOUNDS = [5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400];

const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const percent = (share: number) => `${Math.round(share * 1000) / 10} %`;

/** "45 s", "5 min", "2 h", "1 d": a response time or histogram bound. */
export function seconds(value: number | null): string {
  if (value === null) return '—';
  if (value < 60) return `${Math.round(value * 10) / 10} s`;
  if (value < 3600) return `${Math.round((value / 60) * 10) / 10} min`;
  if (value < 86400) return `${Math.round((value / 3600) * 10) / 10} h`;
  return `${Math.round((value / 86400) * 10) / 10} d`;
}

function bucketLabel(upTo: number | null, index: number): string {
  if (upTo === null) return `> ${seconds(RESPONSE_BOUNDS[RESPONSE_BOUNDS.length - 1]!)}`;
  return index === 0 ? `≤ ${seconds(upTo)}` : `${seconds(RESPONSE_BOUNDS[index - 1]!)}–${seconds(upTo)}`;
}

function windowOf(days: Range, now: number): { from: string; to: string } {
  // Whole UTC days: today included, so the daily buckets line up with the axis.
  const end = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  return { from: new Date(end - days * DAY_MS).toISOString(), to: new Date(end).toISOString() };
}

/** One row per UTC day of the window (days without actions count zero). */
function dailyVolume(metrics: MetricsReport): { day: number; counts: Record<string, number> }[] {
  const byDay = new Map(metrics.volumeOverTime.map((point) => [Math.floor(Date.parse(point.start) / DAY_MS) * DAY_MS, point.counts]));
  const rows: { day: number; counts: Record<string, number> }[] = [];
  for (let day = Date.parse(metrics.window.from); day < Date.parse(metrics.window.to); day += DAY_MS) rows.push({ day, counts: byDay.get(day) ?? {} });
  return rows;
}

function histogramRows(metrics: MetricsReport): { label: string; count: number }[] {
  const counts = new Map(metrics.responseTimes.histogram.map((bin) => [bin.upToSeconds, bin.count]));
  const bounds: (number | null)[] = [...RESPONSE_BOUNDS, null];
  // Trim the empty tail so the chart uses its width for the bins that matter.
  let last = bounds.length - 1;
  while (last > 3 && !counts.get(bounds[last]!)) last--;
  return bounds.slice(0, last + 1).map((bound, index) => ({ label: bucketLabel(bound, index), count: counts.get(bound) ?? 0 }));
}

/** A uPlot chart that follows its container's width and is rebuilt when its data changes. */
function Chart({ options, data, label }: { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const plot = new uPlot({ ...options, width: el.clientWidth || 600 }, data, el);
    const observer = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: options.height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data]);
  return <div ref={ref} class="chart" role="img" aria-label={label} />;
}

const AXIS = { stroke: '#4b5565', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#dde3ec', width: 1 }, font: '12px system-ui, sans-serif' };

function VolumeChart({ rows }: { rows: { day: number; counts: Record<string, number> }[] }) {
  const present = OUTCOMES.filter((outcome) => rows.some((row) => row.counts[outcome.key]));
  const { options, data } = useMemo(() => {
    const xs = rows.map((row) => row.day / 1000);
    // Stacked bars: each series is the running total, drawn from the top of the stack down.
    const stacked: number[][] = [];
    let running = rows.map(() => 0);
    for (const outcome of present) {
      running = running.map((sum, i) => sum + (rows[i]!.counts[outcome.key] ?? 0));
      stacked.push(running);
    }
    const bars = uPlot.paths.bars!({ size: [0.7, 28], gap: 1 });
    const series: uPlot.Series[] = [{}, ...present.map((outcome) => ({ label: outcome.label, fill: outcome.color, stroke: outcome.color, width: 0, paths: bars, points: { show: false } })).reverse()];
    const options: Omit<uPlot.Options, 'width'> = {
      height: 260,
      legend: { show: false },
      cursor: { show: false },
      padding: [12, 8, 0, 0],
      scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [
        { ...AXIS, values: (_u, splits) => splits.map((s) => dayLabel.format(new Date(s * 1000))) },
        { ...AXIS, size: 44, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) },
      ],
      series,
    };
    return { options, data: [xs, ...[...stacked].reverse()] as uPlot.AlignedData };
  }, [rows]);
  const total = rows.reduce((sum, row) => sum + Object.values(row.counts).reduce((a, b) => a + b, 0), 0);
  return (
    <>
      <ul class="legend" aria-label="Outcomes">
        {present.map((outcome) => (
          <li>
            <span class="swatch" style={{ background: outcome.color }} aria-hidden="true" />
            {outcome.label}
          </li>
        ))}
      </ul>
      <Chart options={options} data={data} label={`Stacked bar chart of ${total} actions per day by outcome; the table below has the numbers.`} />
      <details class="data-table">
        <summary>Volume by day (table)</summary>
        <table class="actions-table compact" data-testid="volume-table">
          <caption class="visually-hidden">Actions per day by outcome</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {present.map((outcome) => (
                <th scope="col" class="num">
                  {outcome.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows
              .filter((row) => Object.keys(row.counts).length)
              .map((row) => (
                <tr>
                  <th scope="row">{dayLabel.format(new Date(row.day))}</th>
                  {present.map((outcome) => (
                    <td class="num">{row.counts[outcome.key] ?? 0}</td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

function ResponseChart({ metrics }: { metrics: MetricsReport }) {
  const bins = useMemo(() => histogramRows(metrics), [metrics]);
  const { options, data } = useMemo(() => {
    const options: Omit<uPlot.Options, 'width'> = {
      height: 220,
      legend: { show: false },
      cursor: { show: false },
      padding: [12, 8, 0, 0],
      scales: { x: { time: false, range: () => [-0.5, bins.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [
        { ...AXIS, grid: { show: false }, splits: () => bins.map((_b, i) => i), values: (_u, splits) => splits.map((s) => bins[s]?.label ?? '') },
        { ...AXIS, size: 44, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) },
      ],
      series: [{}, { label: 'Votes', fill: '#3b6fe0', stroke: '#1d4ed8', width: 0, paths: uPlot.paths.bars!({ size: [0.8, 64], gap: 2 }), points: { show: false } }],
    };
    return { options, data: [bins.map((_b, i) => i), bins.map((b) => b.count)] as uPlot.AlignedData };
  }, [bins]);
  const { responseTimes } = metrics;
  return (
    <>
      <dl class="stats" aria-label="Response times">
        <div>
          <dt>Median</dt>
          <dd data-testid="median">{seconds(responseTimes.medianSeconds)}</dd>
        </div>
        <div>
          <dt>90th percentile</dt>
          <dd data-testid="p90">{seconds(responseTimes.p90Seconds)}</dd>
        </div>
        <div>
          <dt>Votes</dt>
          <dd>{responseTimes.decisions}</dd>
        </div>
      </dl>
      <Chart options={options} data={data} label={`Histogram of ${responseTimes.decisions} review response times; the table below has the numbers.`} />
      <details class="data-table">
        <summary>Response times (table)</summary>
        <table class="actions-table compact" data-testid="histogram-table">
          <caption class="visually-hidden">Votes per response time</caption>
          <thead>
            <tr>
              <th scope="col">Response time</th>
              <th scope="col" class="num">
                Votes
              </th>
            </tr>
          </thead>
          <tbody>
            {bins.map((bin) => (
              <tr>
                <th scope="row">{bin.label}</th>
                <td class="num">{bin.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

function Empty({ children }: { children: string }) {
  return <p class="muted panel-empty">{children}</p>;
}

function SlaTable({ metrics }: { metrics: MetricsReport }) {
  const { byTier, byRisk } = metrics.slaBreaches;
  if (!byTier.length) return <Empty>No decided reviews in this window.</Empty>;
  return (
    <>
      <table class="actions-table compact" aria-labelledby="sla-title">
        <thead>
          <tr>
            <th scope="col">Review tier</th>
            <th scope="col" class="num">
              Reached
            </th>
            <th scope="col" class="num">
              Breached
            </th>
            <th scope="col">Breach rate</th>
          </tr>
        </thead>
        <tbody>
          {byTier.map((row) => (
            <tr>
              <th scope="row">
                Tier {row.tier + 1}
                <span class="muted small block">{row.tier === 0 ? 'First reviewers' : 'Escalation'}</span>
              </th>
              <td class="num">{row.reached}</td>
              <td class="num">{row.breached}</td>
              <td>
                <span class="meter" aria-hidden="true">
                  <span style={{ width: `${Math.min(100, row.rate * 100)}%` }} class={row.rate > 0.1 ? 'meter-bad' : 'meter-ok'} />
                </span>
                {percent(row.rate)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {byRisk.length > 0 && (
        <p class="muted small sla-risk">
          By risk:{' '}
          {byRisk.map((row, i) => (
            <>
              {i > 0 && ' · '}
              {RISK_LABEL[row.risk] ?? row.risk} {row.breached}/{row.reviewed}
            </>
          ))}
        </p>
      )}
    </>
  );
}

function DenialTable({ metrics }: { metrics: MetricsReport }) {
  if (!metrics.denialReasons.length) return <Empty>No reviewer denials in this window.</Empty>;
  return (
    <table class="actions-table compact" aria-labelledby="denials-title">
      <thead>
        <tr>
          <th scope="col">Action type</th>
          <th scope="col">Reason code</th>
          <th scope="col" class="num">
            Denials
          </th>
          <th scope="col">Latest rationale</th>
        </tr>
      </thead>
      <tbody>
        {metrics.denialReasons.flatMap((type) =>
          type.reasons.map((reason, i) => (
            <tr>
              {i === 0 && (
                <th scope="rowgroup" rowSpan={type.reasons.length} class="type-cell">
                  <code>{type.actionType}</code>
                  <span class="muted small block">{type.denials} denied</span>
                </th>
              )}
              <td>
                <span class="chip">{reason.reasonCode}</span>
              </td>
              <td class="num">{reason.count}</td>
              <td class="rationale">{reason.rationales[0] ?? '—'}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

function explain(row: MetricsReport['ruleSuggestions'][number]): string {
  const verb = row.suggestion === 'allow' ? 'approved' : 'denied';
  const count = row.suggestion === 'allow' ? row.approved : row.denied;
  return `Reviewers ${verb} ${count} of ${row.decisions} (${percent(row.share)}): consider making this rule ${row.suggestion === 'allow' ? 'allow without review' : 'deny without review'}.`;
}

function SuggestionTable({ metrics }: { metrics: MetricsReport }) {
  if (!metrics.ruleSuggestions.length) return <Empty>No rule has 20 or more human decisions going one way (95 %) yet.</Empty>;
  return (
    <table class="actions-table compact" aria-labelledby="suggestions-title">
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Suggestion</th>
          <th scope="col" class="num">
            Decisions
          </th>
          <th scope="col" class="num">
            Approved
          </th>
          <th scope="col" class="num">
            Denied
          </th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {metrics.ruleSuggestions.map((row) => (
          <tr>
            <th scope="row">
              <code>{row.rule}</code>
            </th>
            <td>
              <span class={`pill ${row.suggestion === 'allow' ? 'pill-good' : 'pill-bad'}`}>{row.suggestion === 'allow' ? 'Auto-allow' : 'Auto-deny'}</span>
            </td>
            <td class="num">{row.decisions}</td>
            <td class="num">{row.approved}</td>
            <td class="num">{row.denied}</td>
            <td>{explain(row)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Dashboard({ principal }: { principal: ConsolePrincipal }) {
  const [range, setRange] = useState<Range>(30);
  const metrics = usePolling(() => holdpoint.metrics({ ...windowOf(range, Date.now()), bucket: 'day' }), [range], 60_000);
  const data = metrics.data;
  const volume = useMemo(() => (data ? dailyVolume(data) : []), [data]);
  const total = data?.volume.total ?? 0;
  const decided = volume.reduce((sum, row) => sum + Object.entries(row.counts).reduce((a, [key, n]) => a + (key === 'pending' ? 0 : n), 0), 0);
  const breached = data?.slaBreaches.byTier.reduce((sum, row) => sum + row.breached, 0) ?? 0;

  const onRangeKey = (event: KeyboardEvent) => {
    // Radio-group keyboard model: arrows move between the ranges.
    const step = event.key === 'ArrowRight' || event.key === 'ArrowDown' ? 1 : event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = RANGES[(RANGES.indexOf(range) + step + RANGES.length) % RANGES.length]!;
    setRange(next);
    (event.currentTarget as HTMLElement).parentElement?.querySelector<HTMLElement>(`[data-range="${next}"]`)?.focus();
  };

  return (
    <section aria-labelledby="dashboard-title" class="dashboard">
      <div class="page-head">
        <div>
          <h1 id="dashboard-title" tabIndex={-1}>
            Dashboard
          </h1>
          <p class="muted">
            Actions created in the last {range} days{principal.role === 'admin' ? ', all agents' : ', routed to you or your groups'}.
          </p>
        </div>
        <div class="refresh">
          <div class="segmented" role="radiogroup" aria-label="Date range">
            {RANGES.map((days) => (
              <button
                type="button"
                role="radio"
                data-range={days}
                aria-checked={range === days}
                tabIndex={range === days ? 0 : -1}
                onClick={() => setRange(days)}
                onKeyDown={onRangeKey}
              >
                {days} days
              </button>
            ))}
          </div>
          <span class="muted small" aria-live="polite">
            {metrics.updatedAt ? `Updated ${formatTime(metrics.updatedAt)}` : 'Loading…'}
          </span>
        </div>
      </div>

      {metrics.error && (
        <p class="notice notice-error" role="alert">
          Could not load the metrics: {metrics.error}
        </p>
      )}

      {data && (
        <>
          <dl class="kpis">
            <div class="card">
              <dt>Actions</dt>
              <dd data-testid="kpi-total">{total}</dd>
            </div>
            <div class="card">
              <dt>Decided</dt>
              <dd>{decided}</dd>
            </div>
            <div class="card">
              <dt>Median response</dt>
              <dd>{seconds(data.responseTimes.medianSeconds)}</dd>
            </div>
            <div class="card">
              <dt>SLA breaches</dt>
              <dd class={breached ? 'kpi-bad' : undefined}>{breached}</dd>
            </div>
          </dl>

          <div class="dash-grid">
            <section class="card span-2" aria-labelledby="volume-title">
              <h2 id="volume-title">Volume over time by outcome</h2>
              {total ? <VolumeChart rows={volume} /> : <Empty>No actions in this window.</Empty>}
            </section>
            <section class="card" aria-labelledby="response-title">
              <h2 id="response-title">Response-time distribution</h2>
              {data.responseTimes.decisions ? <ResponseChart metrics={data} /> : <Empty>No reviewer votes in this window.</Empty>}
            </section>
            <section class="card" aria-labelledby="sla-title">
              <h2 id="sla-title">SLA breaches by tier</h2>
              <SlaTable metrics={data} />
            </section>
            <section class="card span-2" aria-labelledby="denials-title">
              <h2 id="denials-title">Top denial reasons by action type</h2>
              <DenialTable metrics={data} />
            </section>
            <section class="card span-2" aria-labelledby="suggestions-title">
              <h2 id="suggestions-title">Rule suggestions</h2>
              <SuggestionTable metrics={data} />
            </section>
          </div>
        </>
      )}
    </section>
  );
}
