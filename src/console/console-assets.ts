import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One file of the reviewer console, served from memory. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** Keyed by URL path below /console: `/index.html`, `/app.js`, `/app.css`. */
export type ConsoleAssets = Map<string, ConsoleAsset>;

/** Browser source (src/console/app); only present in a source checkout. */
const APP_DIR = path.join(__dirname, 'app');
/** Output of `npm run build:console`, next to the compiled server code (dist/console/public). */
export const PREBUILT_DIR = path.join(__dirname, 'public');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function asset(name: string, body: Buffer): [string, ConsoleAsset] {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return [`/${name}`, { body, contentType: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream', etag }];
}

/**
 * Bundles the console with esbuild (Preact, one JS and one CSS file). Runs in memory when the API
 * starts from source (`npm start`, tests), and writes files for the production image.
 */
export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: path.join(APP_DIR, 'main.tsx') },
    outdir: 'out',
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const files = new Map<string, Buffer>(result.outputFiles.map((file) => [path.basename(file.path), Buffer.from(file.contents)]));
  const js = files.get('app.js');
  const css = files.get('app.css');
  if (!js || !css) throw new Error('console build did not produce app.js and app.css');
  const version = (body: Buffer) => createHash('sha256').update(body).digest('hex').slice(0, 12);
  const index = fs
    .readFileSync(path.join(APP_DIR, 'index.html'), 'utf8')
    .replace('%APP_JS%', `/console/app.js?v=${version(js)}`)
    .replace('%APP_CSS%', `/console/app.css?v=${version(css)}`);
  return new Map([asset('index.html', Buffer.from(index)), asset('app.js', js), asset('app.css', css)]);
}

export async function writeConsoleAssets(outDir: string): Promise<ConsoleAssets> {
  const assets = await buildConsoleAssets();
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, file] of assets) fs.writeFileSync(path.join(outDir, name.slice(1)), file.body);
  return assets;
}

/** Prebuilt files when present (production image), else a fresh in-memory build (source checkout). */
export async function loadConsoleAssets(): Promise<ConsoleAssets> {
  if (fs.existsSync(path.join(PREBUILT_DIR, 'index.html'))) {
    return new Map(['index.html', 'app.js', 'app.css'].map((name) => asset(name, fs.readFileSync(path.join(PREBUILT_DIR, name)))));
  }
  if (!fs.existsSync(APP_DIR)) throw new Error(`no console assets: ${PREBUILT_DIR} is missing (run npm run build:console)`);
  return buildConsoleAssets();
}
