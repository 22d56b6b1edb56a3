import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionRequest } from '../shared/action';
import type { PolicyDecision, ReviewPlan } from '../shared/policy';
import { formatDuration } from '../shared/duration';
import type { LoadedPolicy } from './loaded-policy';
import { formatPolicyIssue, PolicyLoadError } from './policy-load-error';
import { evaluate } from './policy-evaluator';
import { isPolicyTestFileName, listFiles, loadPolicy } from './policy-loader';
import { caseLimitReadings, limitsDiff } from './policy-test-history';
import { policyTestFileSchema, type PolicyTestCase, type PolicyTestExpectation, type PolicyTestTier } from './policy-test-schema';
import { parseYamlSource } from './yaml-source';

export interface RuleEvaluationFailure {
  ruleId: string;
  message: string;
  treatedAsMatch: boolean;
}

export interface PolicyTestCaseResult {
  file: string;
  name: string;
  passed: boolean;
  /** Diff of expected (-) against actual (+) for the fields that differ. */
  message?: string;
  decision: PolicyDecision;
  ruleFailures: RuleEvaluationFailure[];
}

export interface PolicyTestReport {
  dir: string;
  policyVersion?: string;
  /** Set when the policy itself does not load; no case ran. */
  loadError?: string;
  /** Test files that could not be read or validated. */
  fileErrors: { file: string; message: string }[];
  cases: PolicyTestCaseResult[];
  /** Rules no case matched; reported, not failed, so coverage gaps are visible. */
  uncoveredRules: string[];
  passed: number;
  failed: number;
  ok: boolean;
}

function sameRuleSet(expected: readonly string[], actual: readonly string[]): boolean {
  const wanted = new Set(expected);
  const found = new Set(actual);
  return wanted.size === found.size && [...wanted].every((id) => found.has(id));
}

const list = (ids: readonly string[]): string => `[${ids.join(', ')}]`;
const NO_REVIEW = '(no review)';

/**
 * `finance-approvers [alice, bob] 30m → finance-managers`: groups, then reviewers and window only
 * where the expectation names them, so a case pins exactly what it states. Sets are sorted.
 */
function formatRoute(tiers: readonly PolicyTestTier[], shape: readonly PolicyTestTier[]): string {
  return tiers
    .map((tier, index) => {
      const wanted = shape[index];
      let text = [...tier.groups].sort().join(' + ');
      if (wanted?.reviewers !== undefined) text += ` ${list([...(tier.reviewers ?? [])].sort())}`;
      if (wanted?.sla !== undefined && tier.sla !== undefined) text += ` ${formatDuration(tier.sla)}`;
      return text;
    })
    .join(' → ');
}

function routeOf(review: ReviewPlan): PolicyTestTier[] {
  return review.tiers.map((tier) => ({ groups: tier.groups, reviewers: tier.reviewers, sla: tier.durationMs }));
}

function diff(expected: PolicyTestExpectation, decision: PolicyDecision): string | undefined {
  const lines: string[] = [];
  const compare = (field: string, want: string, got: string): void => {
    if (want !== got) lines.push(`- ${field}: ${want}`, `+ ${field}: ${got}`);
  };
  compare('outcome', expected.outcome, decision.outcome);
  if (expected.rules !== undefined && !sameRuleSet(expected.rules, decision.matchedRules)) {
    lines.push(`- rules: ${list(expected.rules)}`, `+ rules: ${list(decision.matchedRules)}`);
  }
  if (expected.risk !== undefined) compare('risk', expected.risk, decision.risk);
  if (expected.reason !== undefined) compare('reason', JSON.stringify(expected.reason), JSON.stringify(decision.reason));
  const review = decision.review;
  if (expected.route !== undefined) {
    compare('route', formatRoute(expected.route, expected.route), review ? formatRoute(routeOf(review), expected.route) : NO_REVIEW);
  }
  if (expected.approvals !== undefined) compare('approvals', String(expected.approvals), review ? String(review.approvals) : NO_REVIEW);
  if (expected.on_timeout !== undefined) compare('on_timeout', expected.on_timeout, review?.onTimeout ?? NO_REVIEW);
  if (expected.break_glass !== undefined) compare('break_glass', String(expected.break_glass), String(decision.breakGlass));
  return lines.length > 0 ? lines.join('\n') : undefined;
}

function runCase(policy: LoadedPolicy, file: string, testCase: PolicyTestCase): PolicyTestCaseResult {
  const ruleFailures: RuleEvaluationFailure[] = [];
  const decision = evaluate(
    policy,
    testCase.input as ActionRequest,
    { ruleFailed: (rule, error, treatedAsMatch) => ruleFailures.push({ ruleId: rule.id, message: error.message.split('\n')[0] ?? '', treatedAsMatch }) },
    caseLimitReadings(policy, testCase),
  );
  const mismatch = [diff(testCase.expect, decision), limitsDiff(testCase.expect, decision)].filter((part) => part !== undefined).join('\n') || undefined;
  let message = mismatch;
  if (mismatch !== undefined && ruleFailures.length > 0) {
    const notes = ruleFailures.map((failure) => `  rule "${failure.ruleId}" failed (${failure.treatedAsMatch ? 'treated as match' : 'treated as no match'}): ${failure.message}`);
    message = `${mismatch}\n${notes.join('\n')}`;
  }
  return { file, name: testCase.name, passed: mismatch === undefined, message, decision, ruleFailures };
}

function readTestCases(dir: string, file: string): { cases: PolicyTestCase[] } | { error: string } {
  const parsed = parseYamlSource(file, readFileSync(join(dir, file), 'utf8'));
  if (!parsed.ok) return { error: parsed.errors.map((error) => `${error.line ?? '?'}:${error.column ?? '?'} ${error.message}`).join('; ') };
  const validated = policyTestFileSchema.safeParse(parsed.source.data);
  if (!validated.success) {
    return {
      error: validated.error.issues
        .map((issue) => {
          const position = parsed.source.locate(issue.path);
          return `${position ? `${position.line}:${position.column} ` : ''}${issue.path.join('.')}: ${issue.message}`;
        })
        .join('; '),
    };
  }
  return { cases: validated.data.tests };
}

/** Loads the policy in `dir` and runs every `*.test.yaml` / `*.test.yml` beside it against it. */
export function runPolicyTests(dir: string): PolicyTestReport {
  const report: PolicyTestReport = { dir, fileErrors: [], cases: [], uncoveredRules: [], passed: 0, failed: 0, ok: false };
  let policy: LoadedPolicy;
  try {
    policy = loadPolicy(dir);
  } catch (error) {
    report.loadError = error instanceof PolicyLoadError ? error.issues.map(formatPolicyIssue).join('\n') : String(error);
    return report;
  }
  report.policyVersion = policy.policyVersion;

  const testFiles = listFiles(dir, isPolicyTestFileName);
  for (const file of testFiles) {
    const read = readTestCases(dir, file);
    if ('error' in read) {
      report.fileErrors.push({ file, message: read.error });
      continue;
    }
    for (const testCase of read.cases) report.cases.push(runCase(policy, file, testCase));
  }
  const covered = new Set(report.cases.flatMap((result) => result.decision.matchedRules));
  report.uncoveredRules = policy.rules.map((rule) => rule.id).filter((id) => !covered.has(id));
  report.passed = report.cases.filter((result) => result.passed).length;
  report.failed = report.cases.length - report.passed;
  report.ok = report.failed === 0 && report.fileErrors.length === 0 && report.cases.length > 0;
  return report;
}

export interface CommandOutput {
  write(text: string): unknown;
}

const USAGE = 'usage: policy test [--json] [policy-dir]\n';

/**
 * `npm run policy:test -- <dir>`: prints results and returns the exit code —
 * 0 all cases passed, 1 a case or test file failed, 2 the policy did not load or bad usage.
 */
export function policyTestCommand(argv: readonly string[], output: CommandOutput = process.stdout, defaultDir = 'policies'): number {
  const json = argv.includes('--json');
  const positional = argv.filter((argument) => !argument.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h') || positional.length > 1 || argv.some((a) => a.startsWith('-') && a !== '--json')) {
    output.write(USAGE);
    return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  const report = runPolicyTests(positional[0] ?? defaultDir);

  if (json) {
    output.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (report.loadError !== undefined) {
    output.write(`policy in ${report.dir} did not load:\n${report.loadError}\n`);
  } else {
    for (const result of report.cases) {
      output.write(`${result.passed ? '✓' : '✗'} ${result.file} › ${result.name}\n`);
      if (result.message) output.write(`${result.message.replace(/^/gm, '    ')}\n`);
    }
    for (const error of report.fileErrors) output.write(`✗ ${error.file}: ${error.message}\n`);
    if (report.cases.length === 0 && report.fileErrors.length === 0) output.write(`no policy test cases found in ${report.dir}\n`);
    if (report.uncoveredRules.length > 0) output.write(`\nrules no test case matched: ${report.uncoveredRules.join(', ')}\n`);
    output.write(`\n${report.passed} passed, ${report.failed} failed (policy ${report.policyVersion})\n`);
  }
  if (report.loadError !== undefined) return 2;
  return report.ok ? 0 : 1;
}
