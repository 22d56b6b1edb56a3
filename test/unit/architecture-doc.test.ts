import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const src = path.join(root, 'src');
/** Every context may use these; the picture leaves their arrows out. */
const FOUNDATIONS = new Set(['shared', 'platform']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'app' && dir.endsWith('console') ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

const contextOf = (file: string) => path.relative(src, file).split(path.sep)[0]!;

/** "a --> b" for every import from one context into another, foundations left out. */
function importedContexts(): Set<string> {
  const edges = new Set<string>();
  for (const file of sourceFiles(src)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const from = contextOf(file);
      const to = contextOf(path.resolve(path.dirname(file), spec!));
      if (from !== to && !FOUNDATIONS.has(to)) edges.add(`${from} --> ${to}`);
    }
  }
  return edges;
}

function documentedContexts(): Set<string> {
  const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  const block = /<!-- context-graph:start -->([\s\S]*?)<!-- context-graph:end -->/.exec(doc)?.[1] ?? '';
  return new Set([...block.matchAll(/^\s*(\w+) --> (\w+)\s*$/gm)].map(([, a, b]) => `${a} --> ${b}`));
}

it('docs/architecture.md draws exactly the imports between contexts', () => {
  const code = importedContexts();
  const doc = documentedContexts();
  expect({ missingFromDoc: [...code].filter((e) => !doc.has(e)).sort(), notInCode: [...doc].filter((e) => !code.has(e)).sort() }).toEqual({
    missingFromDoc: [],
    notInCode: [],
  });
});

it('nothing outside src/api imports src/api', () => {
  expect([...importedContexts()].filter((edge) => edge.endsWith('--> api'))).toEqual([]);
});

it("README's map names every folder under src/, and every folder it names exists", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## How it works'), readme.indexOf('### Deciding'));
  const named = new Set([...section.matchAll(/^\| [^|]+ \| `src\/(\w+)`/gm)].map(([, folder]) => folder!));
  const folders = fs.readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  expect([...named].sort()).toEqual(folders.sort());
  expect(fs.readdirSync(src).filter((name) => !folders.includes(name))).toEqual([]);
});
