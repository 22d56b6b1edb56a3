export type { CompiledOwner, CompiledRule, DecisionTemplate, LoadedPolicy } from './loaded-policy';
export { PolicyLoadError, formatPolicyIssue, type PolicyIssue } from './policy-load-error';
export {
  loadPolicy,
  loadPolicyFromSources,
  readPolicySources,
  computePolicyVersion,
  isPolicyFileName,
  isPolicyTestFileName,
  type PolicySourceFile,
} from './policy-loader';
export { evaluate, outcomeRank, riskRank, type EvaluationObserver } from './policy-evaluator';
export { PolicyStore, type PolicyLogger, type PolicyReloadResult, type PolicyStoreOptions } from './policy-store';
export {
  runPolicyTests,
  policyTestCommand,
  type PolicyTestCaseResult,
  type PolicyTestReport,
  type RuleEvaluationFailure,
  type CommandOutput,
} from './policy-test-runner';
export { policyFileSchema, type PolicyFileDocument } from './policy-schema';
export { parseDuration } from '../shared/duration';
