import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpProblem } from './problem';

const WINDOW_MS = 60_000;

/**
 * The bucket a request without a principal counts against, per client address. Slack
 * interactivity, email decision links and console sign-in authenticate by their own means and
 * each get a bucket of their own, so a flood of anything else (620 × /healthz) cannot lock
 * Reviewers out of deciding.
 */
export function anonymousBucket(req: Request): 'slack' | 'email' | 'sign-in' | 'ip' {
  if (req.path === '/slack/interactivity') return 'slack';
  if (req.path === '/email/decision') return 'email';
  if (req.path === '/v1/console/session' && req.method === 'POST') return 'sign-in';
  return 'ip';
}

/** The client's address as the API sees it: the socket's, or the forwarded one when TRUST_PROXY trusts the hop. */
export function clientKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? '');
}

const tooMany = (limit: number) =>
  new HttpProblem(429, 'rate-limited', 'Too many requests', `at most ${limit} requests a minute`, { retryAfterSeconds: 60 });

/** Per principal once authenticated (one noisy agent cannot starve the others behind a NAT), else per address and bucket. */
export function requestRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => (req.principal ? `principal:${req.principal.id}` : `${anonymousBucket(req)}:${clientKey(req)}`),
    handler: (_req, _res, next) => next(tooMany(perMinute)),
  });
}

/**
 * Failed credentials (an unknown API key, an ended console session) per client address in a
 * fixed window. Past the limit the address is answered 429 before any key is looked up, so
 * guessing keys costs the database nothing.
 */
export class CredentialFailures {
  private readonly counts = new Map<string, number>();
  private windowStart = Date.now();

  constructor(
    readonly limit: number,
    private readonly windowMs = WINDOW_MS,
  ) {}

  refusal(req: Request): HttpProblem | undefined {
    this.roll();
    return (this.counts.get(clientKey(req)) ?? 0) >= this.limit ? tooMany(this.limit) : undefined;
  }

  record(req: Request): void {
    this.roll();
    const key = clientKey(req);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private roll(): void {
    if (Date.now() - this.windowStart < this.windowMs) return;
    this.counts.clear();
    this.windowStart = Date.now();
  }
}
