import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES } from '../../src/platform/config';

const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

it('documents every environment variable src/platform/config.ts reads', () => {
  const missing = CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});

it('shows the two commands', () => {
  expect(readme).toContain('npm start');
  expect(readme).toContain('npm test');
});
