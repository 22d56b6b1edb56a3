import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';

/**
 * Where an agent-supplied callback URL may point. An agent chooses the URL and the worker fetches
 * it, so without this check the agent could make Holdpoint call anything Holdpoint can reach: the
 * API itself, the Temporal frontend, a cloud metadata service.
 *
 * - Only origins on CALLBACK_ALLOWED_ORIGINS: exact (`https://hooks.example.com`), a subdomain
 *   wildcard (`https://*.example.com`) or `*` (any origin).
 * - Every address a name resolves to is classified. Through a wildcard or `*`, all of them must be
 *   public. An origin listed exactly is the operator's explicit choice and may be private or
 *   loopback; a cloud metadata address is reached only when listed as that address literally.
 * - The worker connects to the address it checked (see `lookupFor`), so a DNS answer that changes
 *   between the check and the connection (rebinding) cannot redirect the request.
 */

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injected in tests: nothing here needs the network). */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

export type CallbackVerdict =
  | { allowed: true; address: string; family: 4 | 6 }
  | {
      allowed: false;
      /** For operators' logs: which address, which rule. */
      reason: string;
      /** For the agent: what to change, without what the server's DNS answered. */
      problem: string;
    };

const systemResolve: Resolve = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

// ---------------------------------------------------------------------------------------------
// Addresses

/** Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba, Oracle, AWS over IPv6). */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192']);
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254']);

type V4Rule = [base: number, prefix: number, cls: Exclude<AddressClass, 'public' | 'metadata'>];
const V4_RULES: V4Rule[] = [
  [v4('0.0.0.0'), 8, 'reserved'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('100.64.0.0'), 10, 'private'], // carrier-grade NAT: inside someone's network
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'],
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.0.0.0'), 24, 'reserved'],
  [v4('192.0.2.0'), 24, 'reserved'],
  [v4('192.88.99.0'), 24, 'reserved'],
  [v4('192.168.0.0'), 16, 'private'],
  [v4('198.18.0.0'), 15, 'reserved'],
  [v4('198.51.100.0'), 24, 'reserved'],
  [v4('203.0.113.0'), 24, 'reserved'],
  [v4('224.0.0.0'), 4, 'reserved'], // multicast
  [v4('240.0.0.0'), 4, 'reserved'], // and 255.255.255.255
];

function v4(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function classifyV4(n: number): AddressClass {
  const dotted = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  if (METADATA_V4.has(dotted)) return 'metadata';
  for (const [base, prefix, cls] of V4_RULES) {
    const size = 2 ** (32 - prefix);
    if (n >= base && n < base + size) return cls;
  }
  return 'public';
}

/** Eight 16-bit groups, or undefined when the text is not an IPv6 address. */
function parseV6(text: string): number[] | undefined {
  let rest = text.replace(/%.*$/, '').toLowerCase();
  if (isIP(rest) !== 6) return undefined;
  let embedded: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (dotted?.[1] && dotted[2]) {
    const n = v4(dotted[2]);
    embedded = [n >>> 16, n & 0xffff];
    rest = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const groups = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const [front, back] = rest.split('::');
  if (back === undefined) return [...groups(front), ...embedded];
  const head = groups(front);
  const tail = [...groups(back), ...embedded];
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function classifyV6(g: number[]): AddressClass {
  const key = g.map((h) => h.toString(16)).join(':');
  if (METADATA_V6.has(key)) return 'metadata';
  const embeddedV4 = (hi: number, lo: number) => hi * 65536 + lo;
  const zeroUpTo = (n: number) => g.slice(0, n).every((h) => h === 0);
  if (zeroUpTo(8)) return 'reserved'; // ::
  if (zeroUpTo(7) && g[7] === 1) return 'loopback'; // ::1
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g[6]!, g[7]!)); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((h) => h === 0)) return classifyV4(embeddedV4(g[6]!, g[7]!)); // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private'; // local-use NAT64
  if (g[0] === 0x2002) return classifyV4(embeddedV4(g[1]!, g[2]!)); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return 'reserved'; // Teredo: the IPv4 inside is hidden
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((first & 0xe000) === 0x2000) return 'public'; // 2000::/3, global unicast
  return 'reserved'; // multicast, discard-only, IPv4-compatible and everything not yet allocated
}

/** What kind of address this is; anything that is not plainly an IP address is `reserved`. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return classifyV4(v4(bare));
  const groups = parseV6(bare);
  return groups ? classifyV6(groups) : 'reserved';
}

// ---------------------------------------------------------------------------------------------
// Allowed origins

type OriginEntry = { kind: 'any' } | { kind: 'exact'; origin: string } | { kind: 'wildcard'; protocol: string; suffix: string; port: string };

/** The entry CALLBACK_ALLOWED_ORIGINS gives, or a message saying what is wrong with it. */
export function parseOriginEntry(text: string): OriginEntry | string {
  if (text === '*') return { kind: 'any' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${text}: not an origin (scheme://host[:port], https://*.example.com or *)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${text}: only http and https origins`;
  if (url.username || url.password) return `${text}: no credentials in an origin`;
  if (url.pathname !== '/' || url.search || url.hash || /^[a-z]+:\/\/[^/]+\/./i.test(text)) return `${text}: an origin has no path, query or fragment`;
  if (url.hostname.includes('*')) {
    if (!/^\*\.[^*]+\.[^*]+$/.test(url.hostname)) return `${text}: a wildcard is a whole first label over a domain of two labels or more (https://*.example.com)`;
    return { kind: 'wildcard', protocol: url.protocol, suffix: url.hostname.slice(1), port: url.port };
  }
  return { kind: 'exact', origin: url.origin };
}

const PROBLEMS = {
  invalid: 'must be an http or https URL without credentials',
  disabled: 'this server sends no callbacks (CALLBACK_ALLOWED_ORIGINS is not set)',
  notListed: "its origin is not on this server's CALLBACK_ALLOWED_ORIGINS",
  notPublic: 'its host must resolve, and only to public addresses (loopback, private, link-local, metadata and reserved addresses are refused)',
} as const;

export class CallbackTargets {
  private readonly entries: OriginEntry[];
  private readonly resolve: Resolve;

  constructor(allowedOrigins: readonly string[], options: { resolve?: Resolve } = {}) {
    this.entries = allowedOrigins.map((text) => {
      const entry = parseOriginEntry(text);
      if (typeof entry === 'string') throw new Error(`CALLBACK_ALLOWED_ORIGINS: ${entry}`);
      return entry;
    });
    this.resolve = options.resolve ?? systemResolve;
  }

  /** False when no origin is allowed: callback URLs are refused at submission. */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Whether `rawUrl` may be called now, and at which address (resolving its host once). */
  async check(rawUrl: string): Promise<CallbackVerdict> {
    const refuse = (reason: string, problem: string): CallbackVerdict => ({ allowed: false, reason, problem });
    if (!this.enabled) return refuse('CALLBACK_ALLOWED_ORIGINS is not set', PROBLEMS.disabled);
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return refuse('not a URL', PROBLEMS.invalid);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return refuse(`${url.protocol} URL or credentials in the URL`, PROBLEMS.invalid);
    const match = this.match(url);
    if (!match) return refuse(`${url.origin} is not on CALLBACK_ALLOWED_ORIGINS`, PROBLEMS.notListed);

    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: ResolvedAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (err) {
        return refuse(`${host} does not resolve (${(err as Error).message})`, PROBLEMS.notPublic);
      }
      if (addresses.length === 0) return refuse(`${host} does not resolve (no addresses)`, PROBLEMS.notPublic);
    }
    for (const { address } of addresses) {
      const cls = classifyAddress(address);
      if (cls === 'public') continue;
      // Listed exactly: the operator chose this host. Metadata only when named by its address.
      if (match === 'explicit' && (cls !== 'metadata' || host === address)) continue;
      const what = host === address ? `${address} (${cls})` : `${host} resolves to ${address} (${cls})`;
      return refuse(`${what}: reachable only through an origin listed exactly in CALLBACK_ALLOWED_ORIGINS`, PROBLEMS.notPublic);
    }
    const [first] = addresses;
    return { allowed: true, address: first!.address, family: first!.family };
  }

  /**
   * A `lookup` for the one connection a request to `rawUrl` opens: it resolves, checks and hands
   * the socket exactly the checked address, so the answer checked is the answer connected to.
   * (Node does not call it for an address literal: check those with `check` first.)
   */
  lookupFor(rawUrl: string): LookupFunction {
    return (_hostname, options, callback) => {
      this.check(rawUrl).then(
        (verdict) => {
          if (!verdict.allowed) return callback(Object.assign(new Error(`callback refused: ${verdict.reason}`), { code: 'CALLBACK_REFUSED' }), '', 0);
          if ((options as { all?: boolean }).all) return (callback as unknown as (err: null, all: ResolvedAddress[]) => void)(null, [{ address: verdict.address, family: verdict.family }]);
          callback(null, verdict.address, verdict.family);
        },
        (err: Error) => callback(err, '', 0),
      );
    };
  }

  private match(url: URL): 'explicit' | 'public-only' | undefined {
    let found: 'public-only' | undefined;
    for (const entry of this.entries) {
      if (entry.kind === 'exact' && entry.origin === url.origin) return 'explicit';
      if (entry.kind === 'any') found = 'public-only';
      if (
        entry.kind === 'wildcard' &&
        entry.protocol === url.protocol &&
        entry.port === url.port &&
        !isIP(url.hostname.replace(/^\[|\]$/g, '')) &&
        url.hostname.endsWith(entry.suffix) &&
        url.hostname.length > entry.suffix.length
      ) {
        found = 'public-only';
      }
    }
    return found;
  }
}
