import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Principal } from '../../access/principal';
import { consumeToken, isTokenConsumed } from '../consumed-token-repository';
import { findPrincipal } from '../../access/principal-repository';
import { verifyDecisionToken, type DecisionTokenClaims } from './decision-token';
import { confirmationPage, decidedMessage, resultPage } from './decision-page';
import { consoleActionUrl } from '../review-summary';
import type { ActionState } from '../../shared/action-state';
import { channelAccess, channelRefusalText } from '../../access/channel-principal';
import { DocumentedRouter } from '../../platform/http/documented-router';
import { HttpProblem, PROBLEM_BASE } from '../../platform/http/problem';
import { problemSchema } from '../../platform/http/problem-schema';
import type { ActionService } from '../../gate/service/action-service';
import { inTransaction } from '../../platform/postgres/transaction';

export interface EmailActionRouteOptions {
  tokenSecret: string;
  pool: Pool;
  actions: ActionService;
  publicUrl: string;
}

const htmlPage = z.string().openapi({ description: 'An HTML page' });
const page = (description: string) => ({
  description,
  content: { 'text/html': { schema: htmlPage }, 'application/problem+json': { schema: problemSchema } },
});

const decisionForm = z.strictObject({
  token: z.string().min(1).max(2_000),
  rationale: z.string().max(2_000).optional(),
  reasonCode: z.union([z.literal(''), z.string().regex(/^[a-z0-9_-]{1,64}$/)]).optional(),
});

/** A refusal shown as a page to browsers and as problem+json to everything else. */
class PageProblem extends HttpProblem {
  constructor(
    status: number,
    type: string,
    title: string,
    detail: string,
    readonly state?: ActionState,
  ) {
    super(status, type, title, detail);
  }
}

/**
 * One-click decisions from email: GET shows a confirmation page (a link preview or a mail scanner
 * following the link decides nothing), POST decides. The token names the reviewer; it works once,
 * until the SLA ends, only for the payload the mail showed, and not from a browser signed in to the
 * console as someone else.
 */
export function emailActionRoutes(registry: OpenAPIRegistry, options: EmailActionRouteOptions) {
  const api = new DocumentedRouter(registry);
  const { pool, actions } = options;
  api.router.use('/email/decision', express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }));

  const consoleUrl = (actionId: string) => consoleActionUrl(options.publicUrl, actionId);
  // Server-rendered pages without scripts: nothing else may load, be framed or receive the form.
  api.router.use('/email/decision', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    next();
  });

  /** Checks the link and who uses it; returns the reviewer and the action's live state. */
  async function open(req: Request, token: unknown): Promise<{ claims: DecisionTokenClaims; principal: Principal; state: ActionState }> {
    const verified = verifyDecisionToken(options.tokenSecret, token);
    if (!verified.ok) {
      if (verified.reason === 'expired') throw new PageProblem(410, 'link-expired', 'This link has expired', 'The review deadline has passed. Open the console to see the action.');
      throw new PageProblem(400, 'link-invalid', 'This link is not valid', 'The link is incomplete or was altered. Use the buttons in the email as sent.');
    }
    const { claims } = verified;
    // Who the link was sent to, as of now: disabled or revoked since the mail went out means no decision.
    const access = channelAccess(await findPrincipal(pool, claims.sub), 'email');
    if (!access.ok) throw new PageProblem(403, 'forbidden', 'This link cannot be used', channelRefusalText(access.reason, `The reviewer ${claims.sub}`));
    const { principal } = access;
    if (req.principal && req.principal.id !== claims.sub) {
      throw new PageProblem(403, 'wrong-reviewer', 'This link is for someone else', `This link was sent to ${claims.sub}; you are signed in as ${req.principal.id}.`);
    }
    if (await isTokenConsumed(pool, 'email-decision', claims.jti)) {
      throw new PageProblem(410, 'link-used', 'This link was already used', 'Each email link works once.', await actions.get(principal, claims.act).catch(() => undefined));
    }
    const state = await actions.get(principal, claims.act);
    if (state.status !== 'pending_review') throw new PageProblem(409, 'not-pending', 'Already decided', decidedMessage(state), state);
    // An approval is for the payload the mail showed; a deny is safe whatever the payload became.
    if (claims.vd === 'approve' && state.review?.candidatePayloadHash && state.review.candidatePayloadHash !== claims.ph) throw payloadChanged(state);
    return { claims, principal, state };
  }

  function payloadChanged(state?: ActionState): PageProblem {
    return new PageProblem(
      409,
      'payload-changed',
      'The payload has changed',
      'The payload changed since you looked: a reviewer edited it after this email was sent, so this approval link no longer applies. A new email shows the current payload; you can also review it in the console.',
      state,
    );
  }

  /** Browsers get a page; other clients the problem document. */
  function refuse(req: Request, res: Response, err: unknown): void {
    if (!(err instanceof HttpProblem)) throw err;
    if (req.accepts(['text/html', 'application/problem+json']) !== 'text/html') throw err;
    const state = err instanceof PageProblem ? err.state : undefined;
    res
      .status(err.status)
      .type('html')
      .setHeader('Cache-Control', 'no-store')
      .setHeader('X-Problem-Type', `${PROBLEM_BASE}${err.type}`)
      .send(resultPage({ title: err.title, message: err.detail, tone: err.status === 409 ? 'info' : 'error', state, consoleUrl: state ? consoleUrl(state.actionId) : undefined }));
  }

  api.get(
    {
      path: '/email/decision',
      summary: 'Confirmation page of a one-click email decision (never decides)',
      tags: ['channels'],
      request: { query: z.object({ token: z.string().openapi({ description: 'The signed token from the email link' }) }) },
      responses: {
        200: page('The confirmation form'),
        400: page('The link is malformed or was altered'),
        403: page('The reviewer is not active, or the browser is signed in as someone else'),
        404: page('The action is not visible to the reviewer'),
        409: page('Already decided, or the payload changed since the email'),
        410: page('The link expired or was already used'),
      },
    },
    async (req, res) => {
      try {
        const token = typeof req.query.token === 'string' ? req.query.token : undefined;
        const { claims, principal, state } = await open(req, token);
        res
          .status(200)
          .type('html')
          .setHeader('Cache-Control', 'no-store')
          .send(confirmationPage({ state, reviewer: principal.id, verdict: claims.vd, token: token!, consoleUrl: consoleUrl(state.actionId) }));
      } catch (err) {
        refuse(req, res, err);
      }
    },
  );

  api.post(
    {
      path: '/email/decision',
      summary: 'Decide from an email link (the confirmation form posts here)',
      tags: ['channels'],
      request: { body: { content: { 'application/x-www-form-urlencoded': { schema: decisionForm } } } },
      responses: {
        200: page('Recorded; the resulting state'),
        400: page('The link is malformed or was altered'),
        403: page('Not eligible, or the browser is signed in as someone else'),
        404: page('The action is not visible to the reviewer'),
        409: page('Already decided, or the payload changed since the email'),
        410: page('The link expired or was already used'),
        422: page('A deny needs a rationale'),
      },
    },
    async (req, res) => {
      try {
        const form = decisionForm.safeParse(req.body ?? {});
        if (!form.success) throw new PageProblem(400, 'link-invalid', 'This link is not valid', 'The form is incomplete. Use the link in the email again.');
        const { claims, principal, state } = await open(req, form.data.token);
        const rationale = form.data.rationale?.trim() || undefined;
        const reasonCode = form.data.reasonCode || undefined;
        if (claims.vd === 'deny' && !rationale) {
          res
            .status(422)
            .type('html')
            .setHeader('Cache-Control', 'no-store')
            .send(
              confirmationPage({ state, reviewer: principal.id, verdict: 'deny', token: form.data.token, consoleUrl: consoleUrl(state.actionId), error: 'A deny needs a rationale.' }),
            );
          return;
        }
        const decided = await decideOnce(claims, principal, { verdict: claims.vd, rationale, reasonCode });
        res
          .status(200)
          .type('html')
          .setHeader('Cache-Control', 'no-store')
          .send(
            resultPage({
              title: decided.decision ? decidedMessage(decided) : 'Your approval is recorded',
              message: decided.decision
                ? `Thank you, ${principal.id}. The agent has been told.`
                : `Thank you, ${principal.id}. More approvals are needed before the action can run.`,
              tone: 'ok',
              state: decided,
              consoleUrl: consoleUrl(decided.actionId),
            }),
          );
      } catch (err) {
        refuse(req, res, err);
      }
    },
  );

  /**
   * Spends the token and decides in one transaction: a second use waits on the first and then finds
   * the token spent. If the decision could not be attempted (Temporal or Postgres down), the token
   * stays usable; a refusal by the workflow spends it like a decision would, except a stale approval
   * (the payload changed since the mail), which leaves the mail's deny link usable.
   */
  async function decideOnce(
    claims: DecisionTokenClaims,
    principal: Principal,
    decision: { verdict: 'approve' | 'deny'; rationale?: string; reasonCode?: string },
  ): Promise<ActionState> {
    let stale = false;
    const outcome = await inTransaction(pool, async (client) => {
      if (!(await consumeToken(client, 'email-decision', claims.jti, new Date(claims.exp * 1000)))) {
        throw new PageProblem(410, 'link-used', 'This link was already used', 'Each email link works once.');
      }
      try {
        // The token's payload hash: the workflow counts the approval only while that is the candidate.
        return { state: await actions.decide(principal, claims.act, { ...decision, ...(decision.verdict === 'approve' ? { payloadHash: claims.ph } : {}) }) };
      } catch (err) {
        // A stale approval leaves the pair usable (rolled back): its deny link still denies.
        stale = err instanceof HttpProblem && err.type === 'payload-changed';
        // Any other refusal spends the link (committed); a failure of ours leaves it for a retry.
        if (err instanceof HttpProblem && err.status < 500 && !stale) return { refused: err };
        throw err;
      }
    }).catch(async (err: unknown) => {
      if (stale) throw payloadChanged(await actions.get(principal, claims.act).catch(() => undefined));
      throw err;
    });
    if ('refused' in outcome) throw outcome.refused;
    return outcome.state;
  }

  return api.router;
}
