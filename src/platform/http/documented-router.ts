import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router, type RequestHandler } from 'express';
import type { Role } from '../../access/principal';
import { requireRole } from '../../access/authenticate';
import { problemSchema } from './problem-schema';

type Method = 'get' | 'post';

export interface DocumentedRoute extends Omit<RouteConfig, 'method'> {
  /** Roles allowed to call it (function-level authorization); absent: public. */
  roles?: readonly Role[];
}

export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });

const COMMON_ERRORS = {
  400: problem('Invalid input; `issues` lists each bad field'),
  429: problem('Rate limit exceeded'),
  503: problem('Temporal or Postgres unavailable; retry after Retry-After seconds'),
};
const AUTH_ERRORS = {
  401: problem('Missing, unknown or revoked API key'),
  403: problem('The caller may not do this'),
};

/**
 * Registers an Express route and its OpenAPI operation in one call, so the document can never
 * miss a route or describe one that does not exist.
 */
export class DocumentedRouter {
  readonly router = Router();

  constructor(private readonly registry: OpenAPIRegistry) {}

  /** `handlers`: any guards of the route's own, then the handler. */
  get(route: DocumentedRoute, ...handlers: [RequestHandler, ...RequestHandler[]]): this {
    return this.add('get', route, handlers);
  }

  post(route: DocumentedRoute, ...handlers: [RequestHandler, ...RequestHandler[]]): this {
    return this.add('post', route, handlers);
  }

  private add(method: Method, route: DocumentedRoute, handlers: RequestHandler[]): this {
    const { roles, ...config } = route;
    this.registry.registerPath({
      ...config,
      method,
      ...(roles ? { security: [{ bearer: [] }] } : {}),
      responses: {
        ...COMMON_ERRORS,
        ...(roles ? AUTH_ERRORS : {}),
        ...(route.path.includes('{') ? { 404: problem('Unknown, or not visible to the caller') } : {}),
        ...(method === 'post' ? { 413: problem('Body larger than the configured limit'), 415: problem('Body is not application/json') } : {}),
        ...config.responses,
      },
    });
    const expressPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    const guards = roles ? [requireRole(roles)] : [];
    this.router[method](expressPath, ...guards, ...handlers);
    return this;
  }
}
