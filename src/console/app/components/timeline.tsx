import { formatDateTime } from '../format';
import type { JsonObject } from '../../../shared/action';
import type { EvidenceRecord } from '../../../shared/wire-types';

interface Described {
  title: string;
  detail?: string;
  tone?: 'good' | 'bad' | 'info';
}

const list = (value: unknown) => (Array.isArray(value) ? value.join(', ') : '');

function describe(event: EvidenceRecord): Described {
  const d = event.data as JsonObject & Record<string, unknown>;
  const actor = event.actor ?? 'holdpoint';
  switch (event.type) {
    case 'action.requested':
      return { title: `Requested by ${actor}` };
    case 'policy.classified': {
      const decision = (d.decision ?? {}) as { outcome?: string; risk?: string; matchedRules?: string[] };
      return { title: `Policy: ${(decision.outcome ?? '').replace(/_/g, ' ')} · ${decision.risk ?? ''} risk`, detail: decision.matchedRules?.length ? `Rules: ${decision.matchedRules.join(', ')}` : undefined };
    }
    case 'review.requested':
      return { title: `Review requested from ${list(d.assignees)}`, detail: d.dueAt ? `Due ${formatDateTime(String(d.dueAt))}` : undefined, tone: 'info' };
    case 'review.escalated':
      return { title: `Escalated to tier ${Number(d.tier) + 1}: ${list(d.assignees)}`, detail: d.dueAt ? `Due ${formatDateTime(String(d.dueAt))}` : undefined, tone: 'info' };
    case 'notification.sent':
    case 'notification.partially_failed': {
      const deliveries = (Array.isArray(d.deliveries) ? d.deliveries : []) as { channel: string; ok: boolean; detail?: string }[];
      const failed = deliveries.filter((x) => !x.ok);
      return {
        title: `Notified: ${String(d.kind ?? '').replace(/_/g, ' ')}${deliveries.length ? ` via ${deliveries.map((x) => x.channel).join(', ')}` : ''}`,
        detail: failed.length ? `Failed: ${failed.map((x) => `${x.channel} (${x.detail ?? 'error'})`).join('; ')}` : undefined,
        tone: failed.length ? 'bad' : undefined,
      };
    }
    case 'review.approved':
    case 'review.approved_with_edit':
    case 'review.denied': {
      const verb = event.type === 'review.denied' ? 'denied' : event.type === 'review.approved_with_edit' ? 'approved with an edit' : 'approved';
      const why = [d.rationale ? `“${String(d.rationale)}”` : '', d.reasonCode ? `(${String(d.reasonCode)})` : ''].filter(Boolean).join(' ');
      return { title: `${actor} ${verb}`, detail: why || undefined, tone: event.type === 'review.denied' ? 'bad' : 'good' };
    }
    case 'review.break_glass':
      // An override, not a routed review: shown as such, with the reason the admin had to give.
      return { title: `${actor} approved by BREAK-GLASS override`, detail: d.rationale ? `“${String(d.rationale)}”` : undefined, tone: 'bad' };
    case 'action.failed':
      return { title: 'Failed: a step could not be recorded', detail: d.error ? String(d.error) : undefined, tone: 'bad' };
    case 'execution.started':
      return { title: `Execution started${d.executor ? ` via ${String(d.executor)}` : ''}` };
    case 'execution.succeeded':
      return { title: 'Executed', tone: 'good' };
    case 'execution.failed':
      return { title: 'Execution failed', detail: d.error ? String(d.error) : undefined, tone: 'bad' };
    case 'execution.awaiting_report':
      return { title: "Waiting for the agent's execution report" };
    case 'execution.reported':
      return { title: `Agent reported ${d.succeeded ? 'success' : 'failure'}`, tone: d.succeeded ? 'good' : 'bad' };
    case 'execution.mismatch':
      return { title: 'Agent executed a different payload', tone: 'bad' };
    case 'execution.unconfirmed':
      return { title: 'No execution report in time', tone: 'bad' };
    case 'action.completed':
      return { title: 'Completed' };
    default:
      if (event.type.startsWith('action.')) {
        const status = event.type.slice('action.'.length).replace(/_/g, ' ');
        return { title: `Decision: ${status}`, detail: d.rationale ? String(d.rationale) : undefined, tone: /approved|allowed/.test(status) ? 'good' : 'bad' };
      }
      return { title: event.type };
  }
}

export function Timeline({ events }: { events: EvidenceRecord[] }) {
  return (
    <ol class="timeline">
      {events.map((event) => {
        const described = describe(event);
        return (
          <li class={`timeline-item ${described.tone ? `tone-${described.tone}` : ''}`}>
            <span class="timeline-dot" aria-hidden="true" />
            <div>
              <p class="timeline-title">{described.title}</p>
              {described.detail && <p class="timeline-detail">{described.detail}</p>}
              <time class="timeline-time" dateTime={event.occurredAt}>
                {formatDateTime(event.occurredAt)}
              </time>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
