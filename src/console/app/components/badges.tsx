import { duration, RISK_LABEL, statusLabel, statusTone } from '../format';
import { useNow } from '../hooks';

export function RiskBadge({ risk }: { risk: string | null }) {
  if (!risk) return <span class="badge">—</span>;
  return (
    <span class={`badge risk risk-${risk}`}>
      <span class="risk-dot" aria-hidden="true" />
      {RISK_LABEL[risk] ?? risk}
      <span class="visually-hidden"> risk</span>
    </span>
  );
}

export function StatusPill({ status }: { status: string }) {
  return <span class={`pill pill-${statusTone(status)}`}>{statusLabel(status)}</span>;
}

/** Time left until the SLA ends, ticking every second; urgent under 15 minutes, overdue after. */
export function SlaCountdown({ dueAt }: { dueAt: string | null }) {
  const now = useNow(1000);
  if (!dueAt) return <span class="sla">No deadline</span>;
  const left = Date.parse(dueAt) - now;
  const tone = left < 0 ? 'overdue' : left < 15 * 60_000 ? 'urgent' : 'ok';
  return (
    <time class={`sla sla-${tone}`} dateTime={dueAt} title={new Date(dueAt).toLocaleString()}>
      {left < 0 ? `Overdue by ${duration(left)}` : `${duration(left)} left`}
    </time>
  );
}
