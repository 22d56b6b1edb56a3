import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { WebClient } from '@slack/web-api';
import express from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Principal } from '../../access/principal';
import { consumeToken } from '../consumed-token-repository';
import { findPrincipalBySlackUser } from '../../access/principal-repository';
import { findReviewerContacts } from '../reviewer-contact-repository';
import { canonicalHash } from '../../evidence/payload-hash';
import { consoleActionUrl } from '../review-summary';
import {
  DENY_MODAL_CALLBACK,
  DENY_MODAL_FIELDS,
  denyModal,
  fallbackText,
  outcomeBlocks,
  parseDecisionButtonValue,
  reviewBlocks,
  SLACK_ACTIONS,
  type SlackReviewCard,
} from './slack-blocks';
import type { ActionState } from '../../shared/action-state';
import { channelAccess, channelRefusalText } from '../../access/channel-principal';
import { SLACK_TOLERANCE_SECONDS, verifySlackRequest } from './slack-signature';
import { DocumentedRouter, problem } from '../../platform/http/documented-router';
import { HttpProblem } from '../../platform/http/problem';
import type { ActionService } from '../../gate/service/action-service';

export interface SlackRouteOptions {
  signingSecret: string;
  client: Pick<WebClient, 'chat' | 'views'>;
  pool: Pool;
  actions: ActionService;
  publicUrl: string;
  logger: Pick<Logger, 'warn' | 'info'>;
}

/** The parts of Slack's interaction payloads we read. */
interface SlackInteraction {
  type: string;
  user?: { id?: string };
  trigger_id?: string;
  container?: { channel_id?: string; message_ts?: string };
  channel?: { id?: string };
  actions?: { action_id?: string; value?: string }[];
  view?: {
    callback_id?: string;
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null; selected_option?: { value?: string } | null }>> };
  };
}

type MessageRef = { channel: string; ts: string };

const interactionForm = z.object({ payload: z.string().openapi({ description: 'The interaction as JSON (block_actions or view_submission)' }) });

/**
 * Slack interactivity: Approve / Deny buttons and the deny modal. Every request is verified with the
 * signing secret (5-minute window, constant-time) and accepted once; the Slack user is mapped to a
 * reviewer principal, which then decides through the same service (and workflow Update) as the API.
 */
export function slackRoutes(registry: OpenAPIRegistry, options: SlackRouteOptions) {
  const api = new DocumentedRouter(registry);
  const { client, pool, actions, logger } = options;
  // The signature covers the exact bytes, so the form is read raw and parsed after verification.
  api.router.use('/slack/interactivity', express.raw({ type: 'application/x-www-form-urlencoded', limit: '256kb' }));

  const NOT_LINKED = 'Your Slack account is not linked to a Holdpoint reviewer. Ask an admin to set your Slack user id on your principal.';

  /** The reviewer behind a Slack user, as of now; or what to tell them when there is none. */
  const principalFor = async (slackUserId: string | undefined): Promise<{ principal: Principal } | { refusal: string }> => {
    const access = channelAccess(slackUserId ? await findPrincipalBySlackUser(pool, slackUserId) : undefined, 'slack');
    if (access.ok) return { principal: access.principal };
    return { refusal: access.reason === 'unknown' ? NOT_LINKED : `Holdpoint did not record your decision: ${channelRefusalText(access.reason, 'your reviewer account')}` };
  };

  const cardOf = async (state: ActionState): Promise<SlackReviewCard> => {
    const assignees = state.review?.assignees ?? [];
    const contacts = await findReviewerContacts(pool, assignees);
    // What approvals apply to now: the submitted payload or a reviewer's edit.
    const payload = state.review?.candidatePayload ?? state.request.payload;
    return {
      actionId: state.actionId,
      kind: 'review_requested',
      request: state.request,
      payload,
      payloadHash: state.review?.candidatePayloadHash ?? state.payloadHash ?? canonicalHash(payload),
      risk: state.policy?.risk ?? 'medium',
      reason: state.policy?.reason ?? '',
      matchedRules: state.policy?.matchedRules ?? [],
      dueAt: state.review?.dueAt,
      reviewers: contacts.map((c) => (c.slackUserId ? `<@${c.slackUserId}>` : c.id)),
      consoleUrl: consoleActionUrl(options.publicUrl, state.actionId),
    };
  };

  /** Rewrites the clicked message: the outcome once decided, else the vote so far. */
  const showState = async (message: MessageRef | undefined, state: ActionState, voter: string) => {
    if (!message) return;
    const card = await cardOf(state);
    const outcome = state.decision
      ? { verdict: state.decision.verdict, by: state.decision.by, rationale: state.decision.rationale, at: state.decision.at }
      : undefined;
    const review = state.review;
    const blocks = outcome
      ? outcomeBlocks(card, outcome)
      : reviewBlocks(card, review ? `${voter} approved (${review.votes.filter((v) => v.verdict === 'approve').length} of ${review.approvalsNeeded})` : undefined);
    await client.chat.update({ channel: message.channel, ts: message.ts, text: fallbackText(card, outcome), blocks }).catch((err: Error) => {
      logger.warn({ actionId: state.actionId, err: err.message }, 'could not update the Slack message');
    });
  };

  const tell = async (channel: string | undefined, user: string | undefined, text: string) => {
    if (!channel || !user) return;
    await client.chat.postEphemeral({ channel, user, text }).catch((err: Error) => logger.warn({ err: err.message }, 'could not answer in Slack'));
  };

  async function onButton(interaction: SlackInteraction): Promise<void> {
    const clicked = interaction.actions?.[0];
    if (!clicked?.value || (clicked.action_id !== SLACK_ACTIONS.approve && clicked.action_id !== SLACK_ACTIONS.deny)) return;
    const ref = parseDecisionButtonValue(clicked.value);
    if (!ref) return;
    const userId = interaction.user?.id;
    const conversation = interaction.container?.channel_id ?? interaction.channel?.id;
    const message: MessageRef | undefined =
      interaction.container?.channel_id && interaction.container.message_ts
        ? { channel: interaction.container.channel_id, ts: interaction.container.message_ts }
        : undefined;
    const who = await principalFor(userId);
    if ('refusal' in who) return tell(conversation, userId, who.refusal);
    const { principal } = who;
    try {
      if (clicked.action_id === SLACK_ACTIONS.approve) {
        // The approval is for the payload on the clicked card, whatever the candidate is now.
        const state = await actions.decide(principal, ref.actionId, { verdict: 'approve', ...(ref.payloadHash ? { payloadHash: ref.payloadHash } : {}) });
        await showState(message, state, principal.id);
        return;
      }
      const state = await actions.get(principal, ref.actionId);
      if (state.status !== 'pending_review') {
        await showState(message, state, principal.id);
        return tell(conversation, userId, `This action is already ${state.status.replace(/_/g, ' ')}.`);
      }
      const card = await cardOf(state);
      await client.views.open({ trigger_id: interaction.trigger_id!, view: denyModal({ ...card, payloadHash: ref.payloadHash ?? card.payloadHash }, message) });
    } catch (err) {
      if (err instanceof HttpProblem && err.type === 'payload-changed') {
        // Show the current payload in place of the stale one; its buttons carry the current hash.
        const current = await actions.get(principal, ref.actionId).catch(() => undefined);
        if (current) await showState(message, current, principal.id);
        return tell(
          conversation,
          userId,
          'Holdpoint did not record your approval: the payload changed since you looked (a reviewer edited it). Review the current payload before approving.',
        );
      }
      if (err instanceof HttpProblem) return tell(conversation, userId, `Holdpoint did not record your decision: ${err.detail}`);
      throw err;
    }
  }

  /** The deny modal's submit: answers Slack with field errors, or closes the modal. */
  async function onDenySubmit(interaction: SlackInteraction): Promise<Record<string, unknown> | undefined> {
    const view = interaction.view!;
    const errors = (text: string) => ({ response_action: 'errors', errors: { [DENY_MODAL_FIELDS.rationale]: text } });
    // payloadHash: the card the Deny came from. A deny needs no hash (refusing is safe whatever the payload became).
    let metadata: { actionId?: string; payloadHash?: string; channel?: string; ts?: string };
    try {
      metadata = JSON.parse(view.private_metadata ?? '{}');
    } catch {
      metadata = {};
    }
    if (!metadata.actionId) return errors('This form is not linked to an action any more; use the console.');
    const values = view.state?.values ?? {};
    const rationale = values[DENY_MODAL_FIELDS.rationale]?.[DENY_MODAL_FIELDS.rationale]?.value?.trim();
    const reasonCode = values[DENY_MODAL_FIELDS.reasonCode]?.[DENY_MODAL_FIELDS.reasonCode]?.selected_option?.value;
    if (!rationale) return errors('A deny needs a rationale.');
    const who = await principalFor(interaction.user?.id);
    if ('refusal' in who) return errors(who.refusal);
    const { principal } = who;
    try {
      const state = await actions.decide(principal, metadata.actionId, { verdict: 'deny', rationale, ...(reasonCode ? { reasonCode } : {}) });
      await showState(metadata.channel && metadata.ts ? { channel: metadata.channel, ts: metadata.ts } : undefined, state, principal.id);
      return undefined;
    } catch (err) {
      if (err instanceof HttpProblem) return errors(err.detail);
      throw err;
    }
  }

  api.post(
    {
      path: '/slack/interactivity',
      summary: 'Slack interactivity: Approve / Deny buttons and the deny modal (signed by Slack)',
      tags: ['channels'],
      request: {
        headers: z.object({ 'x-slack-signature': z.string(), 'x-slack-request-timestamp': z.string() }),
        body: { content: { 'application/x-www-form-urlencoded': { schema: interactionForm } } },
      },
      responses: {
        200: {
          description: 'Handled; for a modal submission, field errors as Slack expects them (or an empty body)',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
        401: problem('Missing, stale or wrong Slack signature'),
        409: problem('This exact request was already handled (replay)'),
      },
    },
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verified = verifySlackRequest(options.signingSecret, req.headers, raw);
      if (!verified.ok) throw new HttpProblem(401, 'slack-signature', 'Invalid Slack signature', `request refused: ${verified.reason}`);
      const fresh = await consumeToken(pool, 'slack-request', verified.signature, new Date((verified.timestamp + SLACK_TOLERANCE_SECONDS) * 1000));
      if (!fresh) throw new HttpProblem(409, 'replayed', 'Replayed request', 'this signed request was already handled');
      let interaction: SlackInteraction;
      try {
        interaction = JSON.parse(new URLSearchParams(raw.toString('utf8')).get('payload') ?? '') as SlackInteraction;
      } catch {
        throw new HttpProblem(400, 'validation', 'Invalid request', 'body.payload: not a Slack interaction (JSON expected)');
      }
      if (interaction.type === 'block_actions') {
        await onButton(interaction);
        res.status(200).end();
      } else if (interaction.type === 'view_submission' && interaction.view?.callback_id === DENY_MODAL_CALLBACK) {
        const answer = await onDenySubmit(interaction);
        if (answer) res.status(200).json(answer);
        else res.status(200).end();
      } else {
        res.status(200).end();
      }
    },
  );

  return api.router;
}
