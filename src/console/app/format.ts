/** Display helpers shared by the console's views. */

export const RISK_LABEL: Record<string, string> = { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };

const STATUS_LABEL: Record<string, string> = {
  classifying: 'Classifying',
  pending_review: 'Pending review',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired',
  cancelled: 'Cancelled',
  allowed: 'Allowed by policy',
  auto_denied: 'Denied by policy',
  executing: 'Executing',
  executed: 'Executed',
  execution_failed: 'Execution failed',
  awaiting_report: 'Awaiting report',
  mismatch: 'Payload mismatch',
  unconfirmed: 'Unconfirmed',
  failed: 'Failed (not recorded)',
};

export function statusLabel(status: string): string {
  return STATUS_LABEL[status] ?? status.replace(/_/g, ' ');
}

/** Which colour family a status is shown in. */
export function statusTone(status: string): 'pending' | 'good' | 'bad' | 'neutral' {
  if (status === 'pending_review' || status === 'classifying' || status === 'executing' || status === 'awaiting_report') return 'pending';
  if (status === 'approved' || status === 'allowed' || status === 'executed') return 'good';
  if (status === 'denied' || status === 'auto_denied' || status === 'execution_failed' || status === 'mismatch' || status === 'expired') return 'bad';
  return 'neutral';
}

/** "12m 05s", "3h 10m", "2d 4h" — the SLA countdown. */
export function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatTime(date: Date): string {
  return time.format(date);
}

/** A payload value as shown in tables: strings bare, everything else as JSON. */
export function displayValue(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
