/**
 * Types shared by the API, activities and workflows. Dependency-free so the workflow
 * bundle can import them.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type ExecutionMode = 'server' | 'agent';

export interface AgentIdentity {
  id: string;
  /** The human or account the agent acts for; never allowed to approve its own request. */
  onBehalfOf?: string;
}

export interface ActionDescriptor {
  type: string;
  tool?: string;
  step?: string;
}

export interface ResourceRef {
  type: string;
  id: string;
  attributes?: JsonObject;
}

/** What an agent asks to run, exactly as submitted. */
export interface ActionRequest {
  agent: AgentIdentity;
  action: ActionDescriptor;
  resource: ResourceRef;
  payload: JsonObject;
  context?: JsonObject;
  /** ISO-8601; the agent no longer needs an answer after this instant. */
  deadline?: string;
  executionMode?: ExecutionMode;
  callbackUrl?: string;
}

/** `billing:cus_123` — the form owner patterns in the policy match against. */
export function resourceKey(resource: ResourceRef): string {
  return `${resource.type}:${resource.id}`;
}
