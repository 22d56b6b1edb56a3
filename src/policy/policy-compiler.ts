import { resourceKey, type ResourceRef } from '../shared/action';
import { mayTimeOutToAllow, type ExecutionPlan, type PolicyOutcome, type ReviewPlan, type RiskTier, type TimeoutOutcome } from '../shared/policy';
import { actionTypeGuard } from './action-type-guard';
import { checkLimitPlaceholders, compileLimits, compileRuleCondition, indexLimitsByActionType, type LimitCatalog } from './limit-compiler';
import type { CompiledOwner, CompiledRule, DecisionTemplate, LoadedPolicy, ReviewPlanSelector } from './loaded-policy';
import { PolicyLoadError, type PolicyIssue } from './policy-load-error';
import type { ExecutionDocument, PolicyDefaultsDocument, PolicyFileDocument, PolicyRuleDocument } from './policy-schema';
import { compileReasonTemplate, constantReason, type ReasonTemplate } from './reason-template';
import { compileResourceGlob } from './resource-glob';
import { buildReviewPlan, distinctMembers, freezeExecution, type ReviewPlanShape } from './review-plan-builder';
import type { YamlPath, YamlSource } from './yaml-source';

export interface ValidatedPolicyFile {
  readonly source: YamlSource;
  readonly document: PolicyFileDocument;
}

const DEFAULT_SLA_MS = 4 * 3_600_000;
const DEFAULT_UNMATCHED_REASON = 'No policy rule matched this action';
const APPROVAL_ONLY_FIELDS = ['route', 'sla', 'remind_before', 'escalation', 'on_timeout', 'approvals', 'allow_edit'] as const;

interface ResolvedDefaults {
  unmatched: PolicyOutcome;
  risk: RiskTier;
  reason: string;
  onTimeout: TimeoutOutcome;
  slaMs: number;
  remindBeforeMs?: number;
  approvals: number;
  routeGroup?: string;
  execution: ExecutionPlan;
  channels?: readonly string[];
}

function toExecutionPlan(document: ExecutionDocument | undefined): ExecutionPlan {
  if (document === undefined) return freezeExecution({ mode: 'agent' });
  const plan: ExecutionPlan = { mode: document.mode };
  if (document.executor !== undefined) plan.executor = document.executor;
  if (document.report_window !== undefined) plan.reportWindowMs = document.report_window;
  return freezeExecution(plan);
}

/** Collects every problem before refusing, so an author fixes a file in one round. */
class IssueCollector {
  readonly issues: PolicyIssue[] = [];

  add(source: YamlSource | undefined, path: YamlPath, message: string, ruleId?: string): void {
    const position = source?.locate(path);
    this.issues.push({
      file: source?.file,
      ruleId,
      path: path.length > 0 ? path.map(String).join('.') : undefined,
      line: position?.line,
      column: position?.column,
      message,
    });
  }

  addAt(issue: PolicyIssue): void {
    this.issues.push(issue);
  }
}

class PolicyCompiler {
  private readonly issues = new IssueCollector();
  private readonly groups = new Map<string, readonly string[]>();
  private readonly groupChannels = new Map<string, readonly string[]>();
  private readonly owners: CompiledOwner[] = [];
  private readonly rules: CompiledRule[] = [];
  private defaults!: ResolvedDefaults;
  private defaultsSource?: YamlSource;
  private limitCatalog!: LimitCatalog;

  constructor(private readonly files: readonly ValidatedPolicyFile[]) {}

  compile(policyVersion: string): LoadedPolicy {
    this.collectGroups();
    this.collectChannels();
    this.resolveDefaults();
    this.collectOwners();
    const unmatched = this.compileUnmatched();
    const limits = compileLimits(this.files);
    this.limitCatalog = limits.catalog;
    for (const issue of limits.issues) this.issues.addAt(issue);
    this.compileRules();
    if (this.issues.issues.length > 0) throw new PolicyLoadError(this.issues.issues);

    const { rulesByActionType, unguardedRules } = indexRulesByActionType(this.rules);
    return Object.freeze({
      policyVersion,
      files: this.files.map((file) => file.source.file),
      groups: this.groups,
      channels: this.groupChannels,
      defaultChannels: this.defaults.channels,
      owners: this.owners,
      rules: this.rules,
      unmatched,
      rulesByActionType,
      unguardedRules,
      limits: this.limitCatalog.limits,
      ...indexLimitsByActionType(this.limitCatalog.limits),
    });
  }

  private collectGroups(): void {
    const definedIn = new Map<string, string>();
    for (const { source, document } of this.files) {
      for (const [name, members] of Object.entries(document.groups ?? {})) {
        const previous = definedIn.get(name);
        if (previous !== undefined) {
          this.issues.add(source, ['groups', name], `group "${name}" is already defined in ${previous}`);
          continue;
        }
        definedIn.set(name, source.file);
        this.groups.set(name, Object.freeze([...members]));
      }
    }
  }

  /** The top-level `channels` map: a group may be given channels once, in any file. */
  private collectChannels(): void {
    const definedIn = new Map<string, string>();
    for (const { source, document } of this.files) {
      for (const [group, channels] of Object.entries(document.channels ?? {})) {
        const previous = definedIn.get(group);
        if (previous !== undefined) {
          this.issues.add(source, ['channels', group], `channels for group "${group}" are already set in ${previous}`);
          continue;
        }
        definedIn.set(group, source.file);
        if (!this.requireGroup(source, ['channels', group], group)) continue;
        this.groupChannels.set(group, Object.freeze([...new Set(channels)]));
      }
    }
  }

  /** Channels reaching one group: its own entry, else defaults.channels, else undefined (all configured). */
  private readonly channelsOf = (group: string): readonly string[] | undefined => this.groupChannels.get(group) ?? this.defaults.channels;

  private resolveDefaults(): void {
    let document: PolicyDefaultsDocument = {};
    for (const { source, document: file } of this.files) {
      if (file.defaults === undefined) continue;
      if (this.defaultsSource !== undefined) {
        this.issues.add(source, ['defaults'], `defaults are already set in ${this.defaultsSource.file}; only one file may set them`);
        continue;
      }
      this.defaultsSource = source;
      document = file.defaults;
    }
    if (document.route !== undefined) this.requireGroup(this.defaultsSource, ['defaults', 'route', 'group'], document.route.group);
    this.defaults = {
      // Fail closed: an action no rule speaks about waits for a human unless the policy says otherwise.
      unmatched: document.unmatched ?? 'require_approval',
      risk: document.risk ?? 'medium',
      reason: document.reason ?? DEFAULT_UNMATCHED_REASON,
      onTimeout: document.on_timeout ?? 'deny',
      slaMs: document.sla ?? DEFAULT_SLA_MS,
      remindBeforeMs: document.remind_before,
      approvals: document.approvals ?? 1,
      routeGroup: document.route?.group,
      execution: toExecutionPlan(document.execution),
      channels: document.channels === undefined ? undefined : Object.freeze([...new Set(document.channels)]),
    };
  }

  private collectOwners(): void {
    for (const { source, document } of this.files) {
      (document.owners ?? []).forEach((owner, index) => {
        this.requireGroup(source, ['owners', index, 'group'], owner.group);
        this.owners.push(Object.freeze({ pattern: owner.resource, matcher: compileResourceGlob(owner.resource), group: owner.group }));
      });
    }
  }

  private requireGroup(source: YamlSource | undefined, path: YamlPath, group: string, ruleId?: string): boolean {
    if (this.groups.has(group)) return true;
    this.issues.add(source, path, `unknown group "${group}"`, ruleId);
    return false;
  }

  private compileUnmatched(): DecisionTemplate {
    const defaults = this.defaults;
    // Without a defaults block, point at the first file: that is where one would be added.
    const source = this.defaultsSource ?? this.files[0]?.source;
    let reason = constantReason(defaults.reason);
    const compiledReason = compileReasonTemplate(defaults.reason);
    if (compiledReason.ok) reason = compiledReason.template;
    else this.issues.add(source, ['defaults', 'reason'], compiledReason.message);
    const template = {
      outcome: defaults.unmatched,
      risk: defaults.risk,
      reason,
      execution: defaults.execution,
    };
    if (defaults.unmatched !== 'require_approval') return template;

    if (defaults.routeGroup === undefined) {
      this.issues.add(source, ['defaults'], 'defaults.route is required while unmatched actions require approval');
      return template;
    }
    if (defaults.onTimeout === 'allow' && !mayTimeOutToAllow(defaults.risk)) {
      this.issues.add(source, ['defaults', 'on_timeout'], `on_timeout: allow is not permitted for ${defaults.risk}-risk approvals`);
    }
    this.checkReminder(source, ['defaults', 'remind_before'], defaults.remindBeforeMs, defaults.slaMs);
    this.checkApprovals(source, ['defaults', 'approvals'], defaults.approvals, [defaults.routeGroup]);
    const plan = buildReviewPlan(this.groups, {
      firstGroup: defaults.routeGroup,
      firstTierMs: defaults.slaMs,
      escalation: [],
      remindBeforeMs: defaults.remindBeforeMs,
      onTimeout: defaults.onTimeout,
      approvals: defaults.approvals,
      editableFields: [],
    }, this.channelsOf);
    return { ...template, selectReviewPlan: () => plan };
  }

  private checkReminder(source: YamlSource | undefined, path: YamlPath, remindBeforeMs: number | undefined, firstTierMs: number, ruleId?: string): void {
    if (remindBeforeMs !== undefined && remindBeforeMs >= firstTierMs) {
      this.issues.add(source, path, 'remind_before must be shorter than the first tier\'s sla', ruleId);
    }
  }

  private checkApprovals(source: YamlSource | undefined, path: YamlPath, approvals: number, firstTierGroups: readonly string[], ruleId?: string): void {
    for (const group of firstTierGroups) {
      const reviewers = distinctMembers(this.groups, group).length;
      if (this.groups.has(group) && approvals > reviewers) {
        this.issues.add(source, path, `approvals: ${approvals} exceeds the ${reviewers} distinct reviewer(s) of first-tier group "${group}"`, ruleId);
      }
    }
  }

  private compileRules(): void {
    const definedIn = new Map<string, string>();
    for (const { source, document } of this.files) {
      (document.rules ?? []).forEach((rule, index) => {
        const path = ['rules', index] as const;
        const previous = definedIn.get(rule.id);
        if (previous !== undefined) {
          this.issues.add(source, [...path, 'id'], `rule id "${rule.id}" is already used in ${previous}`, rule.id);
          return;
        }
        definedIn.set(rule.id, source.file);
        const compiled = this.compileRule(source, path, rule);
        if (compiled !== undefined) this.rules.push(compiled);
      });
    }
  }

  private compileRule(source: YamlSource, path: readonly [string, number], rule: PolicyRuleDocument): CompiledRule | undefined {
    const before = this.issues.issues.length;
    const compiled = compileRuleCondition(this.limitCatalog, rule.when);
    if (!compiled.ok) {
      const position = source.locateInString([...path, 'when'], compiled.start ?? 0);
      const offset = compiled.start === undefined ? '' : ` at expression offset ${compiled.start}`;
      this.issues.addAt({
        file: source.file,
        ruleId: rule.id,
        path: `${path.join('.')}.when`,
        line: position?.line,
        column: position?.column,
        message: `CEL ${compiled.kind} error${offset}: ${compiled.message}`,
      });
    }

    let reason: ReasonTemplate = constantReason(rule.description ?? `Matched policy rule "${rule.id}"`);
    if (rule.reason !== undefined) {
      const template = checkLimitPlaceholders(this.limitCatalog, compileReasonTemplate(rule.reason));
      if (template.ok) reason = template.template;
      else this.issues.add(source, [...path, 'reason'], template.message, rule.id);
    }

    const risk = rule.risk ?? this.defaults.risk;
    let selectReviewPlan: ReviewPlanSelector | undefined;
    if (rule.outcome === 'require_approval') {
      selectReviewPlan = this.compileReviewPlan(source, path, rule, risk);
    } else {
      for (const field of APPROVAL_ONLY_FIELDS) {
        if (rule[field] !== undefined) {
          this.issues.add(source, [...path, field], `${field} only applies to require_approval rules`, rule.id);
        }
      }
    }
    if (rule.outcome === 'deny' && rule.execution !== undefined) {
      this.issues.add(source, [...path, 'execution'], 'execution does not apply to deny rules', rule.id);
    }
    // An allow rule may forbid it: its veto holds whenever it matches beside a require_approval rule.
    if (rule.outcome === 'deny' && rule.break_glass !== undefined) {
      this.issues.add(source, [...path, 'break_glass'], 'break_glass does not apply to deny rules', rule.id);
    }

    if (!compiled.ok || this.issues.issues.length > before) return undefined;
    const condition = compiled.condition;
    return Object.freeze({
      id: rule.id,
      file: source.file,
      order: this.rules.length,
      description: rule.description,
      when: rule.when,
      condition,
      actionTypes: actionTypeGuard(condition.ast),
      outcome: rule.outcome,
      risk,
      reason,
      selectReviewPlan,
      // A denied action never executes; deny decisions carry the defaults' plan only because the field is required.
      execution: rule.execution ? toExecutionPlan(rule.execution) : this.defaults.execution,
      breakGlass: rule.break_glass ?? true,
    });
  }

  private compileReviewPlan(source: YamlSource, path: readonly [string, number], rule: PolicyRuleDocument, risk: RiskTier): ReviewPlanSelector | undefined {
    const ruleId = rule.id;
    const defaults = this.defaults;
    const onTimeout = rule.on_timeout ?? defaults.onTimeout;
    if (onTimeout === 'allow' && !mayTimeOutToAllow(risk)) {
      const inherited = rule.on_timeout === undefined ? ' (inherited from defaults)' : '';
      this.issues.add(source, [...path, rule.on_timeout === undefined ? 'risk' : 'on_timeout'], `on_timeout: allow${inherited} is not permitted for a ${risk}-risk rule`, ruleId);
    }

    let knownGroups = true;
    (rule.escalation ?? []).forEach((step, index) => {
      knownGroups = this.requireGroup(source, [...path, 'escalation', index, 'to'], step.to, ruleId) && knownGroups;
    });

    const firstTierMs = rule.sla ?? defaults.slaMs;
    const remindBeforeMs = rule.remind_before ?? defaults.remindBeforeMs;
    this.checkReminder(source, [...path, rule.remind_before === undefined ? 'sla' : 'remind_before'], remindBeforeMs, firstTierMs, ruleId);
    const approvals = rule.approvals ?? defaults.approvals;
    const shapeFor = (firstGroup: string): ReviewPlanShape => ({
      firstGroup,
      firstTierMs,
      escalation: (rule.escalation ?? []).map((step) => ({ to: step.to, afterMs: step.after })),
      remindBeforeMs,
      onTimeout,
      approvals,
      editableFields: rule.allow_edit ?? [],
    });

    const route = rule.route;
    if (route?.owner_of === undefined) {
      const group = route?.group ?? defaults.routeGroup;
      if (group === undefined) {
        this.issues.add(source, path, 'require_approval rule needs a route (or defaults.route)', ruleId);
        return undefined;
      }
      if (route?.group !== undefined) knownGroups = this.requireGroup(source, [...path, 'route', 'group'], group, ruleId) && knownGroups;
      if (!knownGroups) return undefined;
      this.checkApprovals(source, [...path, 'approvals'], approvals, [group], ruleId);
      const plan = buildReviewPlan(this.groups, shapeFor(group), this.channelsOf);
      return () => plan;
    }

    // owner_of: resource
    if (defaults.routeGroup === undefined) {
      this.issues.add(source, [...path, 'route'], 'owner_of routing needs defaults.route for resources no owner matches', ruleId);
      return undefined;
    }
    if (!knownGroups) return undefined;
    const fallbackGroup = defaults.routeGroup;
    // Any owner entry may be selected at evaluation, so each must be able to supply the approvals.
    const candidateGroups = [...new Set([...this.owners.map((owner) => owner.group), fallbackGroup])];
    this.checkApprovals(source, [...path, 'approvals'], approvals, candidateGroups, ruleId);
    const ownerPlans = this.owners.map((owner) => buildReviewPlan(this.groups, shapeFor(owner.group), this.channelsOf));
    const fallbackPlan = buildReviewPlan(this.groups, shapeFor(fallbackGroup), this.channelsOf);
    const owners = this.owners;
    return (resource: ResourceRef): ReviewPlan => {
      const key = resourceKey(resource);
      for (let index = 0; index < owners.length; index++) {
        if ((owners[index] as CompiledOwner).matcher.test(key)) return ownerPlans[index] as ReviewPlan;
      }
      return fallbackPlan;
    };
  }
}

function indexRulesByActionType(rules: readonly CompiledRule[]): {
  rulesByActionType: ReadonlyMap<string, readonly CompiledRule[]>;
  unguardedRules: readonly CompiledRule[];
} {
  const rulesByActionType = new Map<string, CompiledRule[]>();
  for (const rule of rules) for (const type of rule.actionTypes ?? []) rulesByActionType.set(type, []);
  const unguardedRules: CompiledRule[] = [];
  for (const rule of rules) {
    if (rule.actionTypes === undefined) {
      unguardedRules.push(rule);
      for (const candidates of rulesByActionType.values()) candidates.push(rule);
    } else {
      for (const type of rule.actionTypes) rulesByActionType.get(type)?.push(rule);
    }
  }
  return { rulesByActionType, unguardedRules };
}

/** Semantic checks and compilation of already schema-valid files; throws PolicyLoadError. */
export function compilePolicy(files: readonly ValidatedPolicyFile[], policyVersion: string): LoadedPolicy {
  return new PolicyCompiler(files).compile(policyVersion);
}
