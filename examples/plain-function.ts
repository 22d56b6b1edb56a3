/**
 * A plain async function behind the gate. Runs as is against `npm start`:
 *
 *   HOLDPOINT_AGENT_KEY=hp_… node --import tsx examples/plain-function.ts 35
 *
 * The shipped policy allows discounts up to 20%, holds 21–50% for finance-approvers (who may edit
 * the percentage) and denies more than 50%. Discounts run in agent mode: this process applies
 * the approved discount and reports back.
 */
import { guard, isHoldpointExecution, isRefusal } from 'holdpoint/client';
import { agentId, holdpoint } from './holdpoint-setup';

interface DiscountRequest {
  customerId: string;
  percent: number;
  reason: string;
}

/** The real side effect (here a stand-in for your billing system). */
async function applyDiscount({ customerId, percent }: DiscountRequest) {
  return { customerId, percent, couponId: `coupon_${customerId}_${percent}` };
}

/** The one line: same arguments, same result type, plus a refusal the caller (or a model) can read. */
export const guardedDiscount = guard('billing.discount', applyDiscount, {
  client: holdpoint,
  agentId,
  resource: (args) => ({ type: 'customer', id: args.customerId }),
  timeoutMs: 10 * 60_000,
  onUpdate: (event) => {
    if (event.type === 'waiting' && event.action.review) console.log(`… waiting for ${event.action.review.assignees.join(', ')}: ${event.action.reason}`);
  },
});

async function main() {
  const percent = Number(process.argv[2] ?? 15);
  const outcome = await guardedDiscount({ customerId: 'cus_123', percent, reason: 'Late delivery' });
  if (isRefusal(outcome)) console.log(`Refused (${outcome.outcome}, can ask again: ${outcome.canAskAgain}): ${outcome.message}`);
  else if (isHoldpointExecution(outcome)) console.log(outcome.message);
  else console.log(`Applied ${outcome.percent}% as ${outcome.couponId}`);
}

if (require.main === module) void main();
