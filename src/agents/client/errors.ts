/** RFC 9457 problem details, as every Holdpoint error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  issues?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export class HoldpointError extends Error {
  override name = 'HoldpointError';
}

/** The API answered with an error status; `problem` is its problem+json body. */
export class HoldpointApiError extends HoldpointError {
  override name = 'HoldpointApiError';

  constructor(
    readonly status: number,
    readonly problem: ProblemDetails,
    /** How many requests were made, retries included. */
    readonly attempts: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${problem.title} (${status}): ${problem.detail}`);
  }

  /** The last segment of the problem type URI: `idempotency-conflict`, `not-pending`, `forbidden`… */
  get problemType(): string {
    return this.problem.type.replace(/\/+$/, '').split('/').pop() ?? this.problem.type;
  }
}

/** The API could not be reached (or kept failing) after every retry. */
export class HoldpointConnectionError extends HoldpointError {
  override name = 'HoldpointConnectionError';

  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Builds problem details from a response whose body may not be problem+json (a proxy's 502 page). */
export function toProblemDetails(status: number, statusText: string, body: unknown): ProblemDetails {
  if (body && typeof body === 'object' && typeof (body as ProblemDetails).title === 'string') {
    const problem = body as Partial<ProblemDetails>;
    return { ...problem, type: problem.type ?? 'about:blank', title: problem.title!, status: problem.status ?? status, detail: problem.detail ?? '' };
  }
  const detail = typeof body === 'string' ? body.slice(0, 500) : '';
  return { type: 'about:blank', title: statusText || `HTTP ${status}`, status, detail };
}
