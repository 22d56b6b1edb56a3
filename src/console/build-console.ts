import path from 'node:path';
import { writeConsoleAssets } from './console-assets';

/**
 * `npm run build:console [outDir]`: writes the console bundle for the production image. Without an
 * argument it goes to dist/console/public, where the compiled API looks for it.
 */
async function main() {
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(__dirname, '../../dist/console/public');
  const assets = await writeConsoleAssets(outDir);
  for (const [name, file] of assets) process.stdout.write(`  ${path.join(path.relative(process.cwd(), outDir), name.slice(1))}  ${(file.body.length / 1024).toFixed(1)} KB\n`);
}

main().catch((err) => {
  process.stderr.write(`console build failed: ${(err as Error).message}\n`);
  process.exit(1);
});
