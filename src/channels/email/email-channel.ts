import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { ActionOutcome } from '../../evidence/action-outcome-repository';
import type { ReviewerContact } from '../reviewer-contact-repository';
import { newTokenId, signDecisionToken } from './decision-token';
import { renderReviewEmail, type ReviewEmailLinks } from './review-email';
import { candidateOf } from '../notification-candidate';
import type { ChannelDelivery, NotificationChannel, ReviewNotification } from '../review-notification';
import { consoleActionUrl } from '../review-summary';

export interface EmailChannelOptions {
  transport: Pick<Transporter, 'sendMail'>;
  from: string;
  /** Signs the one-click links; the API verifies them with the same secret. */
  tokenSecret: string;
  publicUrl: string;
  contacts: (ids: readonly string[]) => Promise<ReviewerContact[]>;
  outcome: (actionId: string) => Promise<ActionOutcome | undefined>;
  now?: () => Date;
}

type Role = 'decide' | 'informed' | 'outcome';

/**
 * Email over SMTP (nodemailer). Reviewers who must act get approve / deny links carrying a token
 * bound to them, the action and the hash of the candidate payload the mail shows, expiring with the
 * SLA; after an edit they get a new mail with the changes and links for the new payload; earlier
 * tiers are told of an escalation; everyone assigned learns the outcome. Principals without an email
 * address are skipped.
 */
export class EmailChannel implements NotificationChannel {
  readonly name = 'email';
  constructor(private readonly options: EmailChannelOptions) {}

  async deliver(notification: ReviewNotification): Promise<ChannelDelivery> {
    const audience: { id: string; role: Role }[] =
      notification.kind === 'final_outcome'
        ? notification.recipients.map((id) => ({ id, role: 'outcome' }))
        : [...notification.recipients.map((id) => ({ id, role: 'decide' as Role })), ...notification.informed.map((id) => ({ id, role: 'informed' as Role }))];
    const contacts = new Map((await this.options.contacts(audience.map((a) => a.id))).map((c) => [c.id, c]));
    const reachable = audience.filter((a) => contacts.get(a.id)?.email);
    if (reachable.length === 0) return { channel: this.name, ok: true, detail: 'skipped: no recipient has an email address' };
    const outcome = notification.kind === 'final_outcome' ? await this.options.outcome(notification.actionId) : undefined;

    const results = await Promise.all(
      reachable.map(async ({ id, role }) => {
        const contact = contacts.get(id)!;
        const mail = renderReviewEmail(notification, contact, role, this.links(notification, contact, role), outcome);
        try {
          await this.options.transport.sendMail({
            from: this.options.from,
            to: contact.displayName ? { name: contact.displayName, address: contact.email! } : contact.email!,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            // Stable per notification and recipient: a resend after a retry threads as the same mail.
            messageId: `<${createHash('sha256').update(`${notification.id}/${id}`).digest('hex').slice(0, 32)}@holdpoint>`,
            headers: { 'X-Holdpoint-Action': notification.actionId, 'X-Holdpoint-Event': notification.kind },
          });
          return { id, ok: true as const };
        } catch (err) {
          return { id, ok: false as const, error: (err as Error).message };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    const sent = results.length - failed.length;
    const detail = `sent ${sent} of ${results.length}${failed.length ? `; failed: ${failed.map((f) => `${f.id} (${f.error})`).join(', ')}` : ''}`;
    return { channel: this.name, ok: failed.length === 0, detail };
  }

  private links(notification: ReviewNotification, contact: ReviewerContact, role: Role): ReviewEmailLinks {
    const base = this.options.publicUrl.replace(/\/$/, '');
    const links: ReviewEmailLinks = { consoleUrl: consoleActionUrl(base, notification.actionId) };
    const now = (this.options.now ?? (() => new Date()))();
    const expiresAt = notification.dueAt ? Date.parse(notification.dueAt) : NaN;
    if (role !== 'decide' || !(expiresAt > now.getTime())) return links;
    const claims = {
      jti: newTokenId(),
      sub: contact.id,
      act: notification.actionId,
      // The payload this mail shows (the submitted one or a reviewer's edit): the approval is for exactly that.
      ph: candidateOf(notification).payloadHash,
      exp: Math.floor(expiresAt / 1000),
    };
    const url = (vd: 'approve' | 'deny') => `${base}/email/decision?token=${signDecisionToken(this.options.tokenSecret, { ...claims, vd })}`;
    return { ...links, approveUrl: url('approve'), denyUrl: url('deny') };
  }
}
