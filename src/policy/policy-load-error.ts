/** One reason a policy directory was refused, located as precisely as the source allows. */
export interface PolicyIssue {
  /** File name relative to the policy directory. */
  file?: string;
  ruleId?: string;
  /** Path inside the YAML document, e.g. `rules.3.route.group`. */
  path?: string;
  /** 1-based position in the file. */
  line?: number;
  column?: number;
  message: string;
}

export function formatPolicyIssue(issue: PolicyIssue): string {
  const location = [issue.file ?? '<policy>', issue.line, issue.column].filter((part) => part !== undefined).join(':');
  const rule = issue.ruleId === undefined ? '' : ` rule "${issue.ruleId}"`;
  const path = issue.path ? ` (${issue.path})` : '';
  return `${location}${rule}${path}: ${issue.message}`;
}

/** Every problem found in one load attempt; the policy is refused as a whole. */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const lines = issues.map(formatPolicyIssue);
    super(lines.length === 1 ? `Policy refused: ${lines[0]}` : `Policy refused (${lines.length} problems):\n${lines.join('\n')}`);
    this.issues = issues;
  }
}
