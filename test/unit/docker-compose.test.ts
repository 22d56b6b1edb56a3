import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/platform/config';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/ops/dev/temporal-dev-server';

// docker compose can't run in CI here, so the production topology is checked statically: the
// holdpoint services must configure themselves only through src/platform/config.ts and pass its
// production validation, and the image must start entry points that exist.

const root = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { source?: string; target: string })[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;
const HOLDPOINT_SERVICES = ['holdpoint-setup', 'holdpoint-worker', 'holdpoint-api'] as const;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Compose accepts a map or a KEY=VALUE list; values are strings to the process either way. */
function environmentOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      })
    : Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries);
}

function dependenciesOf(name: string): string[] {
  const deps = service(name).depends_on ?? [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

/** Container ports published to the host, from short ("[ip:]host:container") or long syntax. */
function publishedContainerPorts(name: string): number[] {
  return (service(name).ports ?? []).flatMap((port) => {
    if (typeof port === 'object') return port.published === undefined ? [] : [port.target];
    const parts = String(port).split('/')[0]!.split(':');
    return parts.length >= 2 ? [Number(parts[parts.length - 1])] : [];
  });
}

function commandOf(name: string): string[] {
  const command = service(name).command;
  return typeof command === 'string' ? command.split(/\s+/) : (command ?? []);
}

/** `dist/api/server.js` → `src/api/server.ts`: the build is `tsc` with rootDir src, outDir dist. */
function sourceOf(distFile: string): string {
  return distFile.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
}

describe('docker-compose.yml', () => {
  it('has postgres, Temporal, the Temporal UI, the setup job, the worker and the API', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', ...HOLDPOINT_SERVICES]) {
      expect(services).toHaveProperty([name]);
    }
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:1\.29/);
    expect(environmentOf('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(dependenciesOf('temporal')).toContain('postgres');
    expect(environmentOf('temporal-ui')).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(publishedContainerPorts('temporal-ui')).toContain(8080);
  });

  describe.each(HOLDPOINT_SERVICES)('%s', (name) => {
    it('sets only variables that src/platform/config.ts reads', () => {
      const unknown = Object.keys(environmentOf(name)).filter((key) => !CONFIG_VARIABLES.includes(key));
      expect(unknown).toEqual([]);
    });

    it('passes production config validation against the compose services', () => {
      const config = loadConfig(environmentOf(name));
      expect(config.env).toBe('production');
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.temporal.uiUrl).toBe('http://localhost:8233');
      expect(config.policyPath).toBe('/app/policies');
      const database = new URL(config.database.url!);
      expect(database.host).toBe('postgres:5432');
      expect(database.pathname).toBe('/holdpoint');
    });

    it('waits for Temporal and Postgres', () => {
      expect(dependenciesOf(name)).toEqual(expect.arrayContaining(['temporal', 'postgres']));
    });

    it('runs the one Holdpoint image as a node entry point under dist/', () => {
      expect(service(name).build).toBeDefined();
      expect(service(name).image).toBe(service('holdpoint-api').image);
      expect(commandOf(name)[0]).toBe('node');
      expect(commandOf(name)[1]).toMatch(/^dist\/.+\.js$/);
    });
  });

  it('starts the worker and the API only after search attributes are registered', () => {
    expect(commandOf('holdpoint-setup')).toEqual(['node', 'dist/ops/cli/main.js', 'setup']);
    for (const name of ['holdpoint-worker', 'holdpoint-api']) {
      const deps = service(name).depends_on as Record<string, { condition?: string }>;
      expect(deps['holdpoint-setup']?.condition).toBe('service_completed_successfully');
    }
  });

  it('publishes the API port and binds the API to all interfaces', () => {
    const config = loadConfig(environmentOf('holdpoint-api'));
    expect(config.api.host).toBe('0.0.0.0');
    expect(publishedContainerPorts('holdpoint-api')).toContain(config.api.port);
  });

  it('gives Temporal the dynamic config the embedded dev server runs with', () => {
    const target = `/etc/temporal/${environmentOf('temporal').DYNAMIC_CONFIG_FILE_PATH}`;
    const mount = (service('temporal').volumes ?? [])
      .map((volume) => (typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target]))
      .find(([, inContainer]) => inContainer === target);
    expect(mount).toBeDefined();
    const file = parse(read(mount![0]!)) as Record<string, { value: unknown; constraints?: unknown }[]>;
    const values = Object.fromEntries(Object.entries(file).map(([key, entries]) => [key, entries[0]?.value]));
    expect(values).toEqual(DEV_SERVER_DYNAMIC_CONFIG);
  });

  it("keeps Holdpoint's database separate from Temporal's and creates it at init", () => {
    const mounts = (service('postgres').volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`));
    const initMount = mounts.find((mount) => mount.includes('/docker-entrypoint-initdb.d/'));
    expect(initMount).toBeDefined();
    const initFile = initMount!.split(':')[0]!;
    expect(read(initFile)).toMatch(/CREATE DATABASE holdpoint\b/i);
    expect(environmentOf('temporal').DBNAME ?? 'temporal').not.toBe('holdpoint');
  });
});

// The owner migrates, the worker and API connect as a role that may only add and read evidence.
describe('docker-compose.yml database roles and checkpoint signing', () => {
  const user = (url: string | undefined) => (url ? decodeURIComponent(new URL(url).username) : undefined);
  const initSql = () => read('deploy/postgres-init.sql');

  it('runs the worker and the API as the runtime role and migrates as the owner', () => {
    for (const name of ['holdpoint-worker', 'holdpoint-api']) {
      const config = loadConfig(environmentOf(name));
      expect({ name, runtime: user(config.database.url), owner: user(config.database.migrationUrl) }).toEqual({ name, runtime: 'holdpoint_app', owner: 'holdpoint' });
    }
  });

  it('creates the runtime role at init, with nothing but the right to connect', () => {
    expect(initSql()).toMatch(/CREATE ROLE holdpoint_app LOGIN\b/i);
    expect(initSql()).toMatch(/GRANT CONNECT ON DATABASE holdpoint TO holdpoint_app/i);
    expect(initSql()).not.toMatch(/holdpoint_app[^;]*(SUPERUSER|CREATEROLE|CREATEDB)/i);
  });

  it('gives the worker a checkpoint signing key (production refuses to run it without one)', () => {
    const config = loadConfig(environmentOf('holdpoint-worker'));
    expect(config.audit.signingKeyPath).toBeDefined();
    expect(config.audit.unsignedOk).toBe(false);
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.existsSync(path.join(root, 'Dockerfile')) ? read('Dockerfile') : '';
  const instructions = dockerfile
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('builds on node:20-bookworm-slim in stages and runs as the non-root node user', () => {
    expect(dockerfile).not.toBe('');
    const froms = instructions.filter((line) => /^FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/npm run build\b/);
    expect(dockerfile).toMatch(/npm prune --omit=dev\b/);
    const users = instructions.filter((line) => /^USER\s/i.test(line));
    expect(users.at(-1)).toBe('USER node');
    expect(instructions.some((line) => /^COPY\s+policies\s/.test(line))).toBe(true);
  });

  it('starts entry points that exist in src/ (Dockerfile CMD and every compose command)', () => {
    const cmd = instructions.filter((line) => /^CMD\s/i.test(line)).at(-1);
    expect(cmd).toBeDefined();
    const dockerCommand = JSON.parse(cmd!.replace(/^CMD\s+/i, '')) as string[];
    expect(dockerCommand).toEqual(['node', 'dist/gate/worker.js']);

    const distFiles = new Set([dockerCommand[1]!, ...HOLDPOINT_SERVICES.map((name) => commandOf(name)[1]!)]);
    expect([...distFiles].sort()).toEqual(['dist/api/server.js', 'dist/gate/worker.js', 'dist/ops/cli/main.js']);
    const missing = [...distFiles].map(sourceOf).filter((file) => !fs.existsSync(path.join(root, file)));
    expect(missing).toEqual([]);
  });

  it('keeps build output, dependencies and local data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git']));
  });
});
