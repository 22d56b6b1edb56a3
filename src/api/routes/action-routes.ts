import { Router } from 'express';
import { z } from 'zod';
import { HttpProblem } from '../problem';
import { actionRequestSchema, identifier, idempotencyKeySchema } from '../schemas/action-request';
import type { ActionService } from '../services/action-service';
import { toActionView } from '../services/action-view';
import { parseInput } from '../validate';

export interface ActionRouteOptions {
  actions: ActionService;
  links: { base: string; temporalUi?: string; namespace: string };
}

const actionIdParams = z.strictObject({ id: z.string().regex(/^action-[A-Za-z0-9._:@-]+$/, 'not an action id').max(300) });

export function actionRoutes({ actions, links }: ActionRouteOptions): Router {
  const router = Router();

  router.post('/v1/actions', async (req, res) => {
    if (!req.is('application/json')) throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'send the action as application/json');
    const key = req.get('Idempotency-Key');
    if (!key) throw new HttpProblem(400, 'idempotency-key-required', 'Idempotency-Key required', 'set the Idempotency-Key header so retries never create a second action');
    const idempotencyKey = parseInput(idempotencyKeySchema, key, 'headers');
    const request = parseInput(actionRequestSchema, req.body, 'body');
    const { state, created } = await actions.submit(request, idempotencyKey);
    const view = toActionView(state, links);
    res.status(created ? 201 : 200).location(view.links.self).json(view);
  });

  router.get('/v1/actions/:id', async (req, res) => {
    const { id } = parseInput(actionIdParams, req.params, 'params');
    res.json(toActionView(await actions.get(id), links));
  });

  return router;
}

export { identifier };
