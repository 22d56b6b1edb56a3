import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { ActionState } from '../../shared/action-state';
import { principalOf } from '../../access/authenticate';
import { DocumentedRouter, problem } from '../../platform/http/documented-router';
import { HttpProblem } from '../../platform/http/problem';
import type { CallbackTargets } from '../../channels/callbacks/callback-target';
import { actionRequestSchema, idempotencyKeySchema } from '../../gate/action-request';
import { actionIdParams, cancelBody, decisionBody, executionReportBody, inboxQuery, listQuery, submitQuery, waitQuery } from '../schemas/api-inputs';
import { actionPageSchema, actionViewSchema, evidenceBundleSchema } from '../schemas/response-schemas';
import type { ActionQueries } from '../../gate/service/action-queries';
import type { ActionService } from '../../gate/service/action-service';
import type { OpenActionCap } from '../../gate/service/open-action-cap';
import { toActionView } from '../../gate/service/action-view';
import { parseInput } from '../../platform/http/validate';

export interface ActionRouteOptions {
  actions: ActionService;
  queries: ActionQueries;
  links: { base: string; temporalUi?: string; namespace: string };
  /** Where a callbackUrl may point (checked here, and again by the worker when it delivers). */
  callbackTargets: CallbackTargets;
  /** MAX_OPEN_ACTIONS_PER_AGENT; absent: no cap. */
  openActions?: OpenActionCap;
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const idempotencyHeader = z.object({ 'idempotency-key': idempotencyKeySchema.openapi({ description: 'Unique per action; retries reuse it' }) });
const RETRY_AFTER_SECONDS = '2';

/** 422 naming body.callbackUrl unless the URL is allowed now; the agent is told what to change, not what DNS said. */
async function checkCallbackUrl(targets: CallbackTargets, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  const verdict = await targets.check(url);
  if (verdict.allowed) return;
  throw new HttpProblem(422, 'callback-url-not-allowed', 'Callback URL not allowed', `body.callbackUrl: ${verdict.problem}`, {
    issues: [{ path: 'body.callbackUrl', message: verdict.problem }],
  });
}

export function actionRoutes(registry: OpenAPIRegistry, { actions, queries, links, callbackTargets, openActions }: ActionRouteOptions) {
  const api = new DocumentedRouter(registry);
  const view = (state: ActionState) => toActionView(state, links);

  api.post(
    {
      path: '/v1/actions',
      summary: 'Submit an action for the gate to decide',
      tags: ['agents'],
      roles: ['agent'],
      request: { headers: idempotencyHeader, query: submitQuery, body: { content: { 'application/json': { schema: actionRequestSchema } } } },
      responses: {
        200: json(actionViewSchema, 'The action this Idempotency-Key already names'),
        201: json(actionViewSchema, 'Created and classified (at the ?until milestone, when ?wait was long enough)'),
        202: json(actionViewSchema, 'Created; not at the ?until milestone within ?wait (see Retry-After)'),
        409: problem('The Idempotency-Key was used for a different request'),
        422: problem('callbackUrl not allowed: not on CALLBACK_ALLOWED_ORIGINS, or resolving to a loopback, private, link-local or metadata address'),
        429: problem('Rate limited, or the agent has MAX_OPEN_ACTIONS_PER_AGENT actions open already (too-many-open-actions)'),
      },
    },
    async (req, res) => {
      const principal = principalOf(req);
      const key = req.get('Idempotency-Key');
      if (!key) throw new HttpProblem(400, 'idempotency-key-required', 'Idempotency-Key required', 'set the Idempotency-Key header so retries never create a second action');
      const idempotencyKey = parseInput(idempotencyKeySchema, key, 'headers');
      const { wait, until } = parseInput(submitQuery, req.query, 'query');
      const request = parseInput(actionRequestSchema, req.body, 'body');
      await checkCallbackUrl(callbackTargets, request.callbackUrl);
      if (principal.id === request.agent.id) await openActions?.(request.agent.id, idempotencyKey);
      const { state, created, reached } = await actions.submit(request, idempotencyKey, principal, wait ? { until, timeoutMs: wait * 1000 } : undefined);
      const body = view(state);
      res.location(body.links.self);
      if (!reached) res.status(202).setHeader('Retry-After', RETRY_AFTER_SECONDS);
      else res.status(created ? 201 : 200);
      res.json(body);
    },
  );

  api.get(
    {
      path: '/v1/actions',
      summary: 'List the actions the caller may read, newest first',
      tags: ['actions'],
      roles: ['agent', 'reviewer', 'admin'],
      request: { query: listQuery },
      responses: { 200: json(actionPageSchema, 'A page of actions') },
    },
    async (req, res) => {
      res.json(await queries.list(principalOf(req), parseInput(listQuery, req.query, 'query')));
    },
  );

  api.get(
    {
      path: '/v1/actions/{id}',
      summary: 'The live state of an action',
      tags: ['actions'],
      roles: ['agent', 'reviewer', 'admin'],
      request: { params: actionIdParams },
      responses: { 200: json(actionViewSchema, 'The action'), 404: problem('Unknown, or not visible to the caller') },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      res.json(view(await actions.get(principalOf(req), id)));
    },
  );

  api.get(
    {
      path: '/v1/actions/{id}/wait',
      summary: 'Long-poll until the action is decided (or finished)',
      tags: ['agents'],
      roles: ['agent', 'reviewer', 'admin'],
      request: { params: actionIdParams, query: waitQuery },
      responses: {
        200: json(actionViewSchema, 'Reached the milestone'),
        202: json(actionViewSchema, 'Not yet; poll again after Retry-After'),
      },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      const { timeout, until } = parseInput(waitQuery, req.query, 'query');
      const { state, reached } = await actions.wait(principalOf(req), id, until, timeout * 1000);
      if (!reached) res.status(202).setHeader('Retry-After', RETRY_AFTER_SECONDS);
      res.json(view(state));
    },
  );

  api.post(
    {
      path: '/v1/actions/{id}/cancel',
      summary: 'Withdraw a pending action',
      tags: ['agents'],
      roles: ['agent', 'admin'],
      request: { params: actionIdParams, body: { content: { 'application/json': { schema: cancelBody } }, required: false } },
      responses: {
        200: json(actionViewSchema, 'Cancelled (now, or by an earlier identical request)'),
        202: problem('Taken, and being recorded: send the same request again for its outcome (Retry-After)'),
        409: problem('No longer pending: decided (a decision that came first), or finished'),
        503: problem('Temporal or the worker did not take the cancel in time (Retry-After)'),
      },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      const { reason } = parseInput(cancelBody, req.body ?? {}, 'body');
      res.json(view(await actions.cancel(principalOf(req), id, reason)));
    },
  );

  api.post(
    {
      path: '/v1/actions/{id}/execution',
      summary: 'Report what the agent executed (agent execution mode)',
      tags: ['agents'],
      roles: ['agent'],
      request: { params: actionIdParams, body: { content: { 'application/json': { schema: executionReportBody } } } },
      responses: { 200: json(actionViewSchema, 'Recorded: executed, execution_failed or mismatch'), 409: problem('Not awaiting a report') },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      const report = parseInput(executionReportBody, req.body, 'body');
      res.json(view(await actions.reportExecution(principalOf(req), id, report)));
    },
  );

  api.get(
    {
      path: '/v1/actions/{id}/evidence',
      summary: 'Every recorded step of an action, with hash-chain verification',
      tags: ['actions'],
      roles: ['agent', 'reviewer', 'admin'],
      request: { params: actionIdParams },
      responses: { 200: json(evidenceBundleSchema, 'The evidence bundle') },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      res.json(await queries.evidence(principalOf(req), id));
    },
  );

  api.get(
    {
      path: '/v1/reviews',
      summary: "The caller's inbox: pending actions they may decide, soonest deadline first",
      tags: ['reviewers'],
      roles: ['reviewer', 'admin'],
      request: { query: inboxQuery },
      responses: { 200: json(actionPageSchema, 'A page of pending actions') },
    },
    async (req, res) => {
      res.json(await queries.inbox(principalOf(req), parseInput(inboxQuery, req.query, 'query')));
    },
  );

  api.post(
    {
      path: '/v1/actions/{id}/decision',
      summary: 'Approve or deny (optionally with an edited payload)',
      tags: ['reviewers'],
      roles: ['reviewer', 'admin'],
      request: { params: actionIdParams, body: { content: { 'application/json': { schema: decisionBody } } } },
      responses: {
        200: json(actionViewSchema, 'The vote was recorded (now, or by an earlier identical request); the resulting state'),
        202: problem('Taken, and being recorded: send the same request again for its outcome (Retry-After)'),
        403: problem('Not eligible (not in an active tier, or the requester)'),
        409: problem('Already decided, a second vote by the same reviewer, or the payload changed since the reviewer looked'),
        503: problem('Temporal or the worker did not take the decision in time (Retry-After)'),
        422: problem('Invalid decision or edit (field not editable, or the policy refuses the edit)'),
      },
    },
    async (req, res) => {
      const { id } = parseInput(actionIdParams, req.params, 'params');
      const decision = parseInput(decisionBody, req.body, 'body');
      res.json(view(await actions.decide(principalOf(req), id, decision)));
    },
  );

  return api.router;
}
