/**
 * Endpoints that take HTML-form bodies instead of JSON: Slack posts its interactions as a form, and
 * the email confirmation page is a plain form. They authenticate the request by its own signature
 * or token, never by the console session, so the session's CSRF check does not apply to them.
 */
export const FORM_ENDPOINTS: ReadonlySet<string> = new Set(['/slack/interactivity', '/email/decision']);
