import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { LoadedPolicy } from './loaded-policy';
import { compilePolicy, type ValidatedPolicyFile } from './policy-compiler';
import { PolicyLoadError, type PolicyIssue } from './policy-load-error';
import { policyFileSchema } from './policy-schema';
import { parseYamlSource, type YamlSource } from './yaml-source';

export interface PolicySourceFile {
  /** File name relative to the policy directory. */
  readonly name: string;
  readonly content: string;
}

const POLICY_FILE = /\.ya?ml$/;
const POLICY_TEST_FILE = /\.test\.ya?ml$/;

export function isPolicyFileName(name: string): boolean {
  return POLICY_FILE.test(name) && !POLICY_TEST_FILE.test(name);
}

export function isPolicyTestFileName(name: string): boolean {
  return POLICY_TEST_FILE.test(name);
}

// Code-unit order, not locale order, so every machine computes the same version and merge order.
function byName(left: { name: string }, right: { name: string }): number {
  return left.name < right.name ? -1 : left.name > right.name ? 1 : 0;
}

/** Names of the regular files (or symlinks to them, as in a mounted ConfigMap) in `dir` that match. */
export function listFiles(dir: string, matches: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new PolicyLoadError([{ file: dir, message: `cannot read policy directory: ${(error as Error).message}` }]);
  }
  return names.filter((name) => matches(name) && statSync(join(dir, name), { throwIfNoEntry: false })?.isFile() === true).sort();
}

/** Reads the directory's policy files (not `*.test.yaml`, not subdirectories), sorted by name. */
export function readPolicySources(dir: string): PolicySourceFile[] {
  return listFiles(dir, isPolicyFileName).map((name) => {
    try {
      return { name, content: readFileSync(join(dir, name), 'utf8') };
    } catch (error) {
      throw new PolicyLoadError([{ file: name, message: `cannot read policy file: ${(error as Error).message}` }]);
    }
  });
}

/**
 * `sha256:` + the full hex digest over each file's name and content in name order. Kept at full
 * length because it is recorded as evidence of which policy decided.
 */
export function computePolicyVersion(sources: readonly PolicySourceFile[]): string {
  const hash = createHash('sha256');
  for (const source of [...sources].sort(byName)) {
    hash.update(source.name).update('\0').update(source.content).update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

function ruleIdAt(data: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'rules' || typeof path[1] !== 'number') return undefined;
  const rules = (data as { rules?: unknown } | null)?.rules;
  const rule = Array.isArray(rules) ? (rules[path[1]] as { id?: unknown } | undefined) : undefined;
  return typeof rule?.id === 'string' ? rule.id : undefined;
}

function schemaIssues(source: YamlSource, error: z.ZodError): PolicyIssue[] {
  return error.issues.flatMap((issue) => {
    // Point unknown keys at the key itself, so the path names the offending field.
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    return paths.map((path) => {
      const position = source.locate(path);
      return {
        file: source.file,
        ruleId: ruleIdAt(source.data, path),
        path: path.map(String).join('.') || undefined,
        line: position?.line,
        column: position?.column,
        message: issue.code === 'unrecognized_keys' ? `unknown field "${String(path[path.length - 1])}"` : issue.message,
      };
    });
  });
}

/** Same as loadPolicy, from in-memory files (tests, tools). Synchronous; throws PolicyLoadError. */
export function loadPolicyFromSources(sources: readonly PolicySourceFile[]): LoadedPolicy {
  const sorted = [...sources].sort(byName);
  if (sorted.length === 0) throw new PolicyLoadError([{ message: 'no policy files (*.yaml, *.yml) found' }]);

  const issues: PolicyIssue[] = [];
  const files: ValidatedPolicyFile[] = [];
  for (const { name, content } of sorted) {
    const parsed = parseYamlSource(name, content);
    if (!parsed.ok) {
      for (const error of parsed.errors) issues.push({ file: name, line: error.line, column: error.column, message: `invalid YAML: ${error.message}` });
      continue;
    }
    const validated = policyFileSchema.safeParse(parsed.source.data);
    if (!validated.success) {
      issues.push(...schemaIssues(parsed.source, validated.error));
      continue;
    }
    files.push({ source: parsed.source, document: validated.data });
  }
  if (issues.length > 0) throw new PolicyLoadError(issues);
  return compilePolicy(files, computePolicyVersion(sorted));
}

/**
 * Loads and compiles every policy file in `dir`. Synchronous on purpose: it runs at start-up and
 * on reload, reads a handful of small files, and keeps PolicyStore free of interleaving races.
 * Throws PolicyLoadError naming file, rule and position for every problem found.
 */
export function loadPolicy(dir: string): LoadedPolicy {
  const sources = readPolicySources(dir);
  if (sources.length === 0) throw new PolicyLoadError([{ file: dir, message: 'no policy files (*.yaml, *.yml) found' }]);
  return loadPolicyFromSources(sources);
}
