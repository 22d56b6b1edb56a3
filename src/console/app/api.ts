import type { ActionPage, ActionView, ConsoleSession, DecisionRequest, EvidenceBundle, MetricsBucket, MetricsReport } from '../../shared/wire-types';

/** A refusal from the API, with the RFC 9457 problem's title and detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

let csrfToken: string | null = null;
let onSignedOut: () => void = () => undefined;

/** Called when any request answers 401: the session ended (expired, signed out, key revoked). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

async function request<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => null)) as { title?: string; detail?: string } | null;
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith('/v1/console/session')) onSignedOut();
    throw new ApiError(response.status, data?.title ?? response.statusText, data?.detail ?? `HTTP ${response.status}`);
  }
  return data as T;
}

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => Boolean(entry[1]));
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}

const remember = (session: ConsoleSession) => {
  csrfToken = session.csrfToken;
  return session;
};

export const holdpoint = {
  signIn: (apiKey: string) => request<ConsoleSession>('/v1/console/session', { method: 'POST', body: { apiKey } }).then(remember),
  session: () => request<ConsoleSession>('/v1/console/session').then(remember),
  signOut: () => request<void>('/v1/console/session/end', { method: 'POST' }).finally(() => (csrfToken = null)),
  inbox: (filters: Record<string, string | undefined>) => request<ActionPage>(`/v1/reviews${query({ ...filters, limit: '100' })}`),
  actions: (filters: Record<string, string | undefined>) => request<ActionPage>(`/v1/actions${query({ ...filters, limit: '100' })}`),
  action: (id: string) => request<ActionView>(`/v1/actions/${encodeURIComponent(id)}`),
  evidence: (id: string) => request<EvidenceBundle>(`/v1/actions/${encodeURIComponent(id)}/evidence`),
  decide: (id: string, decision: DecisionRequest) => request<ActionView>(`/v1/actions/${encodeURIComponent(id)}/decision`, { method: 'POST', body: decision }),
  metrics: (params: { from: string; to: string; bucket: MetricsBucket }) => request<MetricsReport>(`/v1/metrics${query(params)}`),
};
