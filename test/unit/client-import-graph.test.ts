import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../..');
const ENTRY = path.join(root, 'src/agents/client/index.ts');
/** `holdpoint/client` is published on its own: it may reach only its own folder and src/shared. */
const ALLOWED_DIRS = ['src/agents/client', 'src/shared'].map((dir) => path.join(root, dir) + path.sep);

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((file) => fs.existsSync(file) && fs.statSync(file).isFile());
}

/**
 * Every file reachable from `entry` by relative imports, and every import that leaves the allowed folders.
 * Type-only imports and `export … from` count too: type-checking the client follows them just the same.
 */
function walk(entry: string): { reached: string[]; violations: string[] } {
  const reached = new Set<string>();
  const violations: string[] = [];
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    const name = path.relative(root, file);
    for (const { fileName: specifier } of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!specifier.startsWith('.')) {
        violations.push(`${name} imports ${specifier}`);
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (!target) violations.push(`${name} imports ${specifier}, which does not resolve`);
      else if (!ALLOWED_DIRS.some((dir) => target.startsWith(dir))) violations.push(`${name} imports ${path.relative(root, target)}`);
      else pending.push(target);
    }
  }
  return { reached: [...reached].map((file) => path.relative(root, file)).sort(), violations };
}

it('the client reaches only src/agents/client and src/shared, and no package (not even @temporalio/* as a type)', () => {
  const { reached, violations } = walk(ENTRY);
  expect(reached).toEqual(expect.arrayContaining(['src/agents/client/holdpoint-client.ts', 'src/shared/wire-types.ts']));
  expect(violations).toEqual([]);
});

it('the walk sees type-only imports and re-exports of packages', () => {
  const probe = "import type { Client } from '@temporalio/client';\nexport type { X } from './x';\nexport { y } from 'zod';\n";
  expect(ts.preProcessFile(probe, true, true).importedFiles.map((f) => f.fileName)).toEqual(['@temporalio/client', './x', 'zod']);
});
