import { useEffect, useState } from 'preact/hooks';
import { holdpoint } from '../api';
import { displayValue, formatDateTime, sameValue, statusLabel } from '../format';
import { usePolling } from '../hooks';
import type { JsonObject } from '../../../shared/action';
import type { ActionView, ConsolePrincipal, EvidenceBundle } from '../../../shared/wire-types';
import { RiskBadge, SlaCountdown, StatusPill } from './badges';
import { DecisionForm } from './decision-form';
import { PayloadView } from './payload-view';
import { Timeline } from './timeline';

interface Detail {
  action: ActionView;
  evidence: EvidenceBundle;
}

const load = (id: string): Promise<Detail> => Promise.all([holdpoint.action(id), holdpoint.evidence(id)]).then(([action, evidence]) => ({ action, evidence }));

/**
 * The payload a reviewer's edit put in place of the submitted one: the approved payload once decided,
 * else the candidate approvals apply to now (from the evidence on an API without candidate fields).
 */
function editedPayload(detail: Detail): JsonObject | undefined {
  const { action, evidence } = detail;
  if (action.approvedPayload) return sameValue(action.approvedPayload, action.payload) ? undefined : action.approvedPayload;
  const candidate = action.review?.candidatePayload;
  if (candidate) return sameValue(candidate, action.payload) ? undefined : candidate;
  const edit = [...evidence.events].reverse().find((event) => event.type === 'review.approved_with_edit');
  return edit?.data.editedPayload as JsonObject | undefined;
}

function KeyValues({ values, caption }: { values: JsonObject; caption: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p class="muted">None</p>;
  return (
    <table class="kv">
      <caption class="visually-hidden">{caption}</caption>
      <tbody>
        {entries.map(([key, value]) => (
          <tr>
            <th scope="row">{key}</th>
            <td>
              <pre>{displayValue(value)}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ActionDetail({ id, principal, onAnnounce }: { id: string; principal: ConsolePrincipal; onAnnounce: (message: string) => void }) {
  const detail = usePolling(() => load(id), [id]);
  const [decided, setDecided] = useState<ActionView | undefined>();
  useEffect(() => setDecided(undefined), [id]);

  if (detail.error && !detail.data) {
    return (
      <section>
        <a class="back" href="#/inbox">
          ← Back to the inbox
        </a>
        <p class="notice notice-error" role="alert">
          {detail.error}
        </p>
      </section>
    );
  }
  if (!detail.data) return <p class="muted" role="status">Loading the action…</p>;

  const action = decided ?? detail.data.action;
  const { evidence } = detail.data;
  const edited = editedPayload({ action, evidence });
  const context = evidence.request?.request?.context;
  const voted = evidence.events.some((event) => event.eventKey === `vote:${principal.id}`);
  const routed = Boolean(action.review?.assignees.includes(principal.id));
  const mayDecide = action.status === 'pending_review' && (principal.role === 'admin' || routed) && !voted;
  // An admin outside the routed reviewers may deny, but approves only by a break-glass override.
  const overrideOnly = principal.role === 'admin' && !routed;

  const onDecided = (view: ActionView) => {
    setDecided(view);
    onAnnounce(view.decision ? `${statusLabel(view.status)}. Your decision is recorded.` : 'Your approval is recorded; more approvals are needed.');
    detail.reload();
  };

  return (
    <article class="detail" aria-labelledby="detail-title">
      <a class="back" href="#/inbox">
        ← Back to the inbox
      </a>
      <header class="detail-head">
        <div>
          <p class="eyebrow">
            {action.agent.id}
            {action.agent.onBehalfOf ? ` on behalf of ${action.agent.onBehalfOf}` : ''} wants to run
          </p>
          <h1 id="detail-title" tabIndex={-1}>
            {action.action.type} <span class="on">on</span> <span class="resource-id">{action.resource.type}:{action.resource.id}</span>
          </h1>
          <div class="badges">
            <RiskBadge risk={action.risk} />
            <StatusPill status={action.status} />
            {action.status === 'pending_review' && <SlaCountdown dueAt={action.review?.dueAt ?? null} />}
          </div>
        </div>
      </header>

      <div class="detail-grid">
        <div class="detail-main">
          <section class="card" aria-labelledby="why-title">
            <h2 id="why-title">Why it needs review</h2>
            <blockquote class="reason">{action.reason}</blockquote>
            <p class="rules">
              <span class="muted">Matched rules:</span>{' '}
              {action.matchedRules.length ? action.matchedRules.map((rule) => <code class="chip">{rule}</code>) : <span class="muted">none (policy default)</span>}
            </p>
          </section>

          <section class="card" aria-labelledby="payload-title">
            <h2 id="payload-title">
              Payload {edited && <span class="tag tag-changed">edited by a reviewer</span>}
            </h2>
            {edited && !action.approvedPayload && (
              <p class="hint">A reviewer changed the highlighted fields. Approvals apply to the edited payload; earlier approvals of the submitted one no longer count.</p>
            )}
            <PayloadView payload={action.payload} edited={edited} editedLabel={action.approvedPayload ? 'Approved' : 'Edited'} />
            <p class="hash muted small">
              Hash <code>{action.payloadHash}</code>
              {action.approvedPayloadHash && action.approvedPayloadHash !== action.payloadHash ? (
                <>
                  {' '}
                  · approved <code>{action.approvedPayloadHash}</code>
                </>
              ) : (
                !action.approvedPayloadHash &&
                action.review?.candidatePayloadHash &&
                action.review.candidatePayloadHash !== action.payloadHash && (
                  <>
                    {' '}
                    · edited <code>{action.review.candidatePayloadHash}</code>
                  </>
                )
              )}
            </p>
          </section>

          <section class="card" aria-labelledby="request-title">
            <h2 id="request-title">Request</h2>
            <dl class="facts">
              <dt>Agent</dt>
              <dd>{action.agent.id}</dd>
              {action.agent.onBehalfOf && (
                <>
                  <dt>On behalf of</dt>
                  <dd>{action.agent.onBehalfOf}</dd>
                </>
              )}
              <dt>Action</dt>
              <dd>
                {action.action.type}
                {action.action.tool && <span class="muted"> · tool {action.action.tool}</span>}
                {action.action.step && <span class="muted"> · step {action.action.step}</span>}
              </dd>
              <dt>Resource</dt>
              <dd>
                {action.resource.type}:{action.resource.id}
              </dd>
            </dl>
            {action.resource.attributes && (
              <>
                <h3>Resource attributes</h3>
                <KeyValues values={action.resource.attributes} caption="Resource attributes" />
              </>
            )}
            <h3>Context</h3>
            <KeyValues values={context ?? {}} caption="Context the agent sent" />
          </section>

          <section class="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">History</h2>
            <Timeline events={evidence.events} />
          </section>
        </div>

        <aside class="detail-side" aria-label="Decision and review">
          {mayDecide ? (
            <DecisionForm action={action} overrideOnly={overrideOnly} onDecided={onDecided} onStale={detail.reload} />
          ) : (
            <section class="card" aria-labelledby="outcome-title">
              <h2 id="outcome-title">{action.decision ? 'Outcome' : 'Status'}</h2>
              <p>
                <StatusPill status={action.status} />
              </p>
              {action.decision ? (
                <dl class="facts">
                  <dt>By</dt>
                  <dd>
                    {action.decision.by.join(', ')}
                    {action.decision.breakGlass && <span class="tag tag-break-glass">Break-glass override</span>}
                  </dd>
                  <dt>At</dt>
                  <dd>{formatDateTime(action.decision.at)}</dd>
                  {action.decision.rationale && (
                    <>
                      <dt>Rationale</dt>
                      <dd>{action.decision.rationale}</dd>
                    </>
                  )}
                </dl>
              ) : (
                <p class="muted">{voted ? 'You have voted; waiting for more approvals.' : 'You are not a reviewer of the active tier.'}</p>
              )}
            </section>
          )}

          {action.review && (
            <section class="card" aria-labelledby="review-title">
              <h2 id="review-title">Review</h2>
              <dl class="facts">
                <dt>Tier</dt>
                <dd>
                  {action.review.tier} of {action.review.tiers}
                </dd>
                <dt>Reviewers</dt>
                <dd>{action.review.assignees.join(', ')}</dd>
                <dt>Approvals</dt>
                <dd>
                  {action.review.approvals} of {action.review.approvalsNeeded} needed
                </dd>
                {action.review.dueAt && (
                  <>
                    <dt>Due</dt>
                    <dd>{formatDateTime(action.review.dueAt)}</dd>
                  </>
                )}
              </dl>
            </section>
          )}

          <section class="card" aria-labelledby="evidence-title">
            <h2 id="evidence-title">Evidence</h2>
            <ul class="links">
              <li>
                <a href={action.links.evidence} target="_blank" rel="noopener">
                  Evidence bundle (JSON)
                </a>
                <span class={`chain ${evidence.chain.ok ? 'chain-ok' : 'chain-bad'}`}>
                  {evidence.chain.ok ? `✓ hash chain verified (${evidence.chain.events} events)` : '✗ hash chain broken'}
                </span>
              </li>
              <li>
                {evidence.temporal.url ? (
                  <a href={evidence.temporal.url} target="_blank" rel="noopener">
                    Workflow in Temporal UI
                  </a>
                ) : (
                  <span class="muted">Temporal UI not configured</span>
                )}
                <code class="small block">{evidence.temporal.workflowId}</code>
              </li>
            </ul>
          </section>
        </aside>
      </div>
    </article>
  );
}
