import type { ShadowComparison } from './shadow-comparison';

export const DEFAULT_RULE = '(default)';

export interface ShadowExample {
  actionId: string;
  actionType: string;
  resource: string;
  createdAt: string;
  live: { outcome: string; risk: string; rules: string[] };
  candidate: { outcome: string; risk: string; rules: string[]; reason: string };
}

/** Actions the candidate decides differently, grouped by the candidate rule that decided them. */
export interface ShadowRuleGroup {
  /** The candidate's deciding rule; `(default)` when none matched. */
  rule: string;
  liveOutcome: string;
  candidateOutcome: string;
  count: number;
  examples: ShadowExample[];
}

/** The same report from shadow mode (`GET /v1/policy/shadow`) and replay (`policy replay`). */
export interface ShadowReport {
  source: 'shadow' | 'replay';
  candidateVersion: string | null;
  since: string;
  until: string;
  evaluated: number;
  differing: number;
  byRule: ShadowRuleGroup[];
}

export function groupKey(rule: string | null, liveOutcome: string, candidateOutcome: string): string {
  return `${rule ?? DEFAULT_RULE}\u0000${liveOutcome}\u0000${candidateOutcome}`;
}

/** Orders groups largest first, then by rule, so both sources print identically. */
export function sortGroups(groups: ShadowRuleGroup[]): ShadowRuleGroup[] {
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return groups.sort(
    (a, b) => b.count - a.count || text(a.rule, b.rule) || text(a.liveOutcome, b.liveOutcome) || text(a.candidateOutcome, b.candidateOutcome),
  );
}

/** Accumulates comparisons in memory (replay); shadow mode aggregates the same way in SQL. */
export class ShadowReportBuilder {
  private evaluated = 0;
  private differing = 0;
  private readonly groups = new Map<string, ShadowRuleGroup>();

  constructor(private readonly examplesPerGroup: number) {}

  add(comparison: ShadowComparison, action: { actionId: string; resource: string; createdAt: string }): void {
    this.evaluated += 1;
    if (!comparison.differs) return;
    this.differing += 1;
    const key = groupKey(comparison.candidate.rule, comparison.live.outcome, comparison.candidate.outcome);
    let group = this.groups.get(key);
    if (!group) {
      group = { rule: comparison.candidate.rule ?? DEFAULT_RULE, liveOutcome: comparison.live.outcome, candidateOutcome: comparison.candidate.outcome, count: 0, examples: [] };
      this.groups.set(key, group);
    }
    group.count += 1;
    // Newest first, like the SQL report: replay feeds actions oldest first.
    group.examples.unshift({
      actionId: action.actionId,
      actionType: comparison.actionType,
      resource: action.resource,
      createdAt: action.createdAt,
      live: comparison.live,
      candidate: { outcome: comparison.candidate.outcome, risk: comparison.candidate.risk, rules: comparison.candidate.rules, reason: comparison.candidate.reason },
    });
    if (group.examples.length > this.examplesPerGroup) group.examples.pop();
  }

  build(meta: { candidateVersion: string; since: string; until: string }): ShadowReport {
    return {
      source: 'replay',
      candidateVersion: meta.candidateVersion,
      since: meta.since,
      until: meta.until,
      evaluated: this.evaluated,
      differing: this.differing,
      byRule: sortGroups([...this.groups.values()]),
    };
  }
}

export function formatShadowReport(report: ShadowReport): string {
  const lines: string[] = [];
  const share = report.evaluated ? ` (${((100 * report.differing) / report.evaluated).toFixed(1)}%)` : '';
  lines.push(`Candidate policy ${report.candidateVersion ?? '(none recorded)'}`);
  lines.push(`${report.source === 'shadow' ? 'Shadow results' : 'Replayed actions'} from ${report.since} to ${report.until}:`);
  lines.push(`  ${report.evaluated} evaluated, ${report.differing} would be decided differently${share}.`);
  for (const group of report.byRule) {
    lines.push('');
    lines.push(`  ${group.rule}: ${group.liveOutcome} → ${group.candidateOutcome}, ${group.count} action${group.count === 1 ? '' : 's'}`);
    for (const example of group.examples) {
      lines.push(
        `    ${example.actionId}  ${example.actionType} ${example.resource}  risk ${example.live.risk} → ${example.candidate.risk}  ${example.createdAt}`,
      );
    }
    if (group.count > group.examples.length) lines.push(`    … and ${group.count - group.examples.length} more`);
  }
  return `${lines.join('\n')}\n`;
}
