import { classifyAddress, CallbackTargets, type ResolvedAddress } from '../../src/channels/callbacks/callback-target';

// Nothing here opens a connection: every host name is answered by a mocked resolver, and the
// addresses checked are only classified. That is how the private, link-local and metadata ranges
// are proven refused without sending a request to one.

const NETWORK = new Map<string, string[]>([
  ['localhost', ['127.0.0.1', '::1']],
  ['hooks.example.com', ['93.184.215.14']],
  ['both.example.com', ['93.184.215.14', '10.0.0.7']],
  ['metadata.attacker.example', ['169.254.169.254']],
  ['ec2-v6.attacker.example', ['fd00:ec2::254']],
  ['alibaba.attacker.example', ['100.100.100.200']],
  ['oracle.attacker.example', ['192.0.0.192']],
  ['private.attacker.example', ['10.1.2.3']],
  ['mapped.attacker.example', ['::ffff:127.0.0.1']],
  ['nat64.attacker.example', ['64:ff9b::a9fe:a9fe']],
  ['hooks.internal', ['10.20.0.5']],
  ['meta.internal', ['169.254.169.254']],
  ['a.hooks.example.net', ['93.184.215.15']],
  ['b.hooks.example.net', ['172.16.4.4']],
]);

function mockResolver() {
  const calls: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const found = NETWORK.get(host);
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['ff02::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['93.184.215.14', 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('CallbackTargets.check', () => {
  const anyPublic = () => {
    const dns = mockResolver();
    return { dns, targets: new CallbackTargets(['*'], { resolve: dns.resolve }) };
  };

  it('accepts a public host and says which address it checked', async () => {
    const { targets } = anyPublic();
    await expect(targets.check('https://hooks.example.com/agent?x=1')).resolves.toEqual({ allowed: true, address: '93.184.215.14', family: 4 });
  });

  it.each([
    ['http://metadata.attacker.example/latest/meta-data/', /169\.254\.169\.254 \(metadata\)/],
    ['http://ec2-v6.attacker.example/', /fd00:ec2::254 \(metadata\)/],
    ['http://alibaba.attacker.example/', /metadata/],
    ['http://oracle.attacker.example/', /metadata/],
    ['http://private.attacker.example/', /10\.1\.2\.3 \(private\)/],
    ['http://mapped.attacker.example/', /loopback/],
    ['http://nat64.attacker.example/', /metadata/],
    ['http://both.example.com/', /10\.0\.0\.7 \(private\)/],
    ['http://169.254.169.254/latest/meta-data/', /metadata/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://127.0.0.1:8080/v1/actions', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://0x7f.1/', /loopback/],
    ['http://[::1]:8233/', /loopback/],
    ['http://localhost:8080/', /loopback/],
    ['http://10.0.0.1/', /private/],
    ['http://[fe80::1]/', /link-local/],
    ['http://0.0.0.0:8080/', /reserved/],
  ])('refuses %s after resolution', async (url, reason) => {
    const { targets } = anyPublic();
    const verdict = await targets.check(url);
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.reason).toMatch(reason);
  });

  it('never asks DNS about an address literal, and refuses names that do not resolve', async () => {
    const { targets, dns } = anyPublic();
    await targets.check('http://169.254.169.254/');
    await targets.check('http://[::1]/');
    expect(dns.calls).toEqual([]);
    const verdict = await targets.check('https://nowhere.example/');
    expect(verdict).toMatchObject({ allowed: false, reason: expect.stringMatching(/does not resolve/) });
  });

  it("tells the agent what to change, never what the server's DNS answered", async () => {
    const { targets } = anyPublic();
    const inside = await targets.check('http://private.attacker.example/');
    const unknown = await targets.check('https://nowhere.example/');
    if (inside.allowed || unknown.allowed) throw new Error('expected both refused');
    // The same words whether an internal name exists or not: no DNS oracle for the agent.
    expect(inside.problem).toBe(unknown.problem);
    expect(inside.problem).not.toMatch(/10\.1\.2\.3|private\.attacker/);
  });

  it('refuses credentials in the URL and schemes other than http(s)', async () => {
    const { targets } = anyPublic();
    expect((await targets.check('https://user:pw@hooks.example.com/')).allowed).toBe(false);
    expect((await targets.check('ftp://hooks.example.com/')).allowed).toBe(false);
    expect((await targets.check('not a url')).allowed).toBe(false);
  });

  it('accepts only the origins on the list', async () => {
    const dns = mockResolver();
    const targets = new CallbackTargets(['https://hooks.example.com', 'https://*.hooks.example.net'], { resolve: dns.resolve });
    expect((await targets.check('https://hooks.example.com/cb')).allowed).toBe(true);
    expect((await targets.check('https://hooks.example.com:443/cb')).allowed).toBe(true);
    expect((await targets.check('http://hooks.example.com/cb')).allowed).toBe(false);
    expect((await targets.check('https://hooks.example.com:8443/cb')).allowed).toBe(false);
    expect((await targets.check('https://evil.example.com/cb')).allowed).toBe(false);
    expect((await targets.check('https://a.hooks.example.net/cb')).allowed).toBe(true);
    expect((await targets.check('https://hooks.example.net/cb')).allowed).toBe(false);
    // A wildcard entry reaches public addresses only: a name under it that resolves inside is refused.
    const inside = await targets.check('https://b.hooks.example.net/cb');
    expect(inside).toMatchObject({ allowed: false, reason: expect.stringMatching(/172\.16\.4\.4 \(private\)/) });
    // Nothing asked DNS for a URL whose origin is not on the list.
    expect(dns.calls).not.toContain('evil.example.com');
  });

  it('lets an exactly listed origin reach a private or loopback address, but never metadata unless listed by address', async () => {
    const dns = mockResolver();
    const targets = new CallbackTargets(['http://hooks.internal:8080', 'http://127.0.0.1:9000', 'http://meta.internal', 'http://169.254.169.254'], { resolve: dns.resolve });
    expect(await targets.check('http://hooks.internal:8080/agent')).toEqual({ allowed: true, address: '10.20.0.5', family: 4 });
    expect((await targets.check('http://127.0.0.1:9000/cb')).allowed).toBe(true);
    expect((await targets.check('http://127.0.0.1:9001/cb')).allowed).toBe(false);
    expect((await targets.check('http://localhost:9000/cb')).allowed).toBe(false);
    expect(await targets.check('http://meta.internal/')).toMatchObject({ allowed: false, reason: expect.stringMatching(/metadata/) });
    expect((await targets.check('http://169.254.169.254/latest')).allowed).toBe(true);
  });

  it('refuses every URL when the list is empty', async () => {
    const dns = mockResolver();
    const targets = new CallbackTargets([], { resolve: dns.resolve });
    expect(targets.enabled).toBe(false);
    expect(await targets.check('https://hooks.example.com/')).toMatchObject({ allowed: false, problem: expect.stringMatching(/CALLBACK_ALLOWED_ORIGINS/) });
  });
});

describe('CallbackTargets.lookup (the connection is pinned to the checked address)', () => {
  it('resolves once per connection, checks that answer and hands exactly it to the socket', async () => {
    let answers = [['93.184.215.14'], ['127.0.0.1']];
    const calls: string[] = [];
    const targets = new CallbackTargets(['*'], {
      resolve: async (host) => {
        calls.push(host);
        const next = answers[0]!;
        answers = answers.slice(1);
        return next.map((address) => ({ address, family: 4 as const }));
      },
    });
    const lookup = targets.lookupFor('https://rebind.example/cb');
    const first = await new Promise<{ address: string; family: number }>((resolve, reject) =>
      lookup('rebind.example', {}, (err, address, family) => (err ? reject(err) : resolve({ address: address as string, family: family as number }))),
    );
    expect(first).toEqual({ address: '93.184.215.14', family: 4 });
    // The second connection (a retry) resolves again and this time the answer is refused: no address reaches the socket.
    const second = await new Promise<Error | null>((resolve) => lookup('rebind.example', {}, (err) => resolve(err)));
    expect(second?.message).toMatch(/127\.0\.0\.1 \(loopback\)/);
    expect(calls).toEqual(['rebind.example', 'rebind.example']);
  });

  it('answers the socket in the shape it asked for (all: true)', async () => {
    const targets = new CallbackTargets(['*'], { resolve: async () => [{ address: '93.184.215.14', family: 4 }] });
    const lookup = targets.lookupFor('https://hooks.example.com/');
    const all = await new Promise((resolve, reject) => lookup('hooks.example.com', { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
    expect(all).toEqual([{ address: '93.184.215.14', family: 4 }]);
  });
});
