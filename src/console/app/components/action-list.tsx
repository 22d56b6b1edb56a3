import { useState } from 'preact/hooks';
import { holdpoint } from '../api';
import { formatDateTime, formatTime, statusLabel } from '../format';
import { usePolling } from '../hooks';
import type { ActionSummary, ConsolePrincipal } from '../../../shared/wire-types';
import { RiskBadge, SlaCountdown, StatusPill } from './badges';

export type ListMode = 'inbox' | 'decided' | 'all';

interface Filters {
  risk?: string;
  actionType?: string;
  agentId?: string;
  status?: string;
}

const TITLES: Record<ListMode, { title: string; intro: string; empty: string }> = {
  inbox: {
    title: 'Inbox',
    intro: 'Pending actions you may decide, soonest deadline first.',
    empty: 'Nothing is waiting for you. New requests appear here on their own.',
  },
  decided: { title: 'Decided', intro: 'Actions routed to you or your groups that are no longer pending.', empty: 'No decided actions yet.' },
  all: { title: 'All actions', intro: 'Every action, newest first (admin).', empty: 'No actions match these filters.' },
};

const STATUSES = ['pending_review', 'approved', 'denied', 'expired', 'cancelled', 'allowed', 'auto_denied', 'executing', 'executed', 'execution_failed', 'awaiting_report', 'mismatch', 'unconfirmed', 'failed'];
const PENDING = new Set(['pending_review', 'classifying']);

function load(mode: ListMode, filters: Filters): Promise<ActionSummary[]> {
  if (mode === 'inbox') return holdpoint.inbox({ risk: filters.risk, actionType: filters.actionType, agentId: filters.agentId }).then((page) => page.items);
  return holdpoint.actions({ ...filters }).then((page) => (mode === 'decided' ? page.items.filter((item) => !PENDING.has(item.status)) : page.items));
}

export function ActionList({ mode, principal }: { mode: ListMode; principal: ConsolePrincipal }) {
  const [filters, setFilters] = useState<Filters>({});
  const list = usePolling(() => load(mode, filters), [mode, filters.risk, filters.actionType, filters.agentId, filters.status]);
  const text = TITLES[mode];
  const items = list.data ?? [];
  const set = (name: keyof Filters) => (event: Event) => {
    const value = (event.target as HTMLInputElement | HTMLSelectElement).value.trim();
    setFilters((previous) => ({ ...previous, [name]: value || undefined }));
  };

  return (
    <section aria-labelledby="list-title">
      <div class="page-head">
        <div>
          <h1 id="list-title" tabIndex={-1}>
            {text.title}
            {list.data && <span class="count">{items.length}</span>}
          </h1>
          <p class="muted">{text.intro}</p>
        </div>
        <div class="refresh" aria-live="polite">
          <span class="muted small">
            {list.updatedAt ? `Auto-refresh every 10 s · updated ${formatTime(list.updatedAt)}` : 'Loading…'}
          </span>
          <button type="button" class="button button-quiet" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        </div>
      </div>

      <form class="filters" role="search" aria-label="Filter actions" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-risk">Risk</label>
          <select id="filter-risk" value={filters.risk ?? ''} onChange={set('risk')}>
            <option value="">Any risk</option>
            <option value="critical">Critical</option>
            <option value="high">High</option>
            <option value="medium">Medium</option>
            <option value="low">Low</option>
          </select>
        </div>
        <div class="field">
          <label for="filter-type">Action type</label>
          <input id="filter-type" type="search" placeholder="e.g. payments.refund" value={filters.actionType ?? ''} onChange={set('actionType')} />
        </div>
        <div class="field">
          <label for="filter-agent">Agent</label>
          <input id="filter-agent" type="search" placeholder="e.g. support-bot" value={filters.agentId ?? ''} onChange={set('agentId')} />
        </div>
        {mode === 'all' && (
          <div class="field">
            <label for="filter-status">Status</label>
            <select id="filter-status" value={filters.status ?? ''} onChange={set('status')}>
              <option value="">Any status</option>
              {STATUSES.map((status) => (
                <option value={status}>{statusLabel(status)}</option>
              ))}
            </select>
          </div>
        )}
      </form>

      {list.error && (
        <p class="notice notice-error" role="alert">
          Could not load the list: {list.error}
        </p>
      )}

      {list.data && items.length === 0 ? (
        <div class="empty">
          <p>{text.empty}</p>
        </div>
      ) : (
        <div class="table-wrap">
          <table class="actions-table">
            <caption class="visually-hidden">
              {text.title}: {items.length} actions
            </caption>
            <thead>
              <tr>
                <th scope="col">{mode === 'inbox' ? 'Risk' : 'Status'}</th>
                <th scope="col">Action</th>
                <th scope="col">Agent</th>
                <th scope="col">{mode === 'inbox' ? 'Reason' : 'Risk'}</th>
                <th scope="col">{mode === 'inbox' ? 'Time left' : mode === 'decided' ? 'Decided' : 'Created'}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <Row item={item} mode={mode} principal={principal} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Row({ item, mode }: { item: ActionSummary; mode: ListMode; principal: ConsolePrincipal }) {
  return (
    <tr>
      <td>{mode === 'inbox' ? <RiskBadge risk={item.risk} /> : <StatusPill status={item.status} />}</td>
      <td class="action-cell">
        <a class="row-link" href={`#/actions/${encodeURIComponent(item.id)}`}>
          <span class="action-type">{item.actionType}</span>
        </a>
        <span class="resource">
          {item.resource.type}:{item.resource.id}
        </span>
      </td>
      <td>
        {item.agent.id}
        {item.agent.onBehalfOf && <span class="muted small block">for {item.agent.onBehalfOf}</span>}
      </td>
      <td>{mode === 'inbox' ? <span class="reason">{item.reason}</span> : <RiskBadge risk={item.risk} />}</td>
      <td>
        {mode === 'inbox' ? (
          <SlaCountdown dueAt={item.dueAt} />
        ) : mode === 'decided' ? (
          <>
            {formatDateTime(item.decidedAt)}
            {item.decidedBy.length > 0 && <span class="muted small block">by {item.decidedBy.join(', ')}</span>}
          </>
        ) : (
          formatDateTime(item.createdAt)
        )}
      </td>
    </tr>
  );
}
