import fc from 'fast-check';
import { findUnsafeJson } from '../../src/shared/json-safety';

describe('findUnsafeJson', () => {
  it.each([
    ['a lone high surrogate', { note: 'a\ud800' }, ['note']],
    ['a lone low surrogate in an array', { tags: ['ok', '\udc00'] }, ['tags', 1]],
    ['NUL', { note: 'a\u0000b' }, ['note']],
    ['an unsafe integer', { amount: 2 ** 53 }, ['amount']],
    ['a negative unsafe integer', { nested: { amount: -(2 ** 53) } }, ['nested', 'amount']],
    ['an integral float far beyond 2^53', { amount: 1e300 }, ['amount']],
    ['Infinity', { amount: Infinity }, ['amount']],
    ['NaN', [1, NaN], [1]],
    ['a lone surrogate in a key (path of its object)', { outer: { ['k\ud800']: 1 } }, ['outer']],
    ['a NUL in a key', { ['k\u0000']: 1 }, []],
    ['a top-level string', '\udfff', []],
  ])('refuses %s, naming its path', (_name, value, path) => {
    expect(findUnsafeJson(value)).toEqual({ path, message: expect.any(String) });
  });

  it('names the first offending value in document order', () => {
    expect(findUnsafeJson({ a: { b: [1, 2, Infinity] }, c: '\ud800' })?.path).toEqual(['a', 'b', 2]);
    expect(findUnsafeJson({ a: 1, ['\ud800']: 2 ** 60, c: 2 ** 60 })).toMatchObject({ path: [], message: expect.stringMatching(/key "\\ud800"/) });
    expect(findUnsafeJson({ ok: 'x', ['\ud800']: 2 ** 60 })?.message).toMatch(/^has a key/);
  });

  it('accepts what is exact: ±(2^53−1), fractions, tiny numbers, paired surrogates', () => {
    const value = { max: 2 ** 53 - 1, min: -(2 ** 53 - 1), fraction: 0.1, tiny: 5e-324, big: 1.5, emoji: '😀', ['😀']: [null, true, ''] };
    expect(findUnsafeJson(value)).toBeUndefined();
  });

  it('refuses nesting deeper than the hashing and storage code can recurse, without overflowing itself', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}"fine"${']'.repeat(200_000)}`);
    const issue = findUnsafeJson(deep);
    expect(issue?.message).toMatch(/deeper than 64 levels/);
    expect(issue?.path).toHaveLength(64);
    expect(findUnsafeJson(JSON.parse(`${'['.repeat(64)}1${']'.repeat(64)}`))).toBeUndefined();
  });

  // Strings of any UTF-16 code units, so lone surrogates and NUL come up; numbers of any magnitude.
  const anyJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }),
      fc.double(),
      fc.integer(),
      fc.constantFrom(2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e21),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 3 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  const at = (value: unknown, path: (string | number)[]) => path.reduce<unknown>((node, segment) => (node as Record<string | number, unknown>)[segment], value);

  it('accepts exactly what survives UTF-8 and a JSON round trip unchanged, and points at what does not', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const issue = findUnsafeJson(value);
        const text = JSON.stringify(value);
        // What Postgres would keep: the UTF-8 bytes of every string, without NUL; every number as parsed back.
        const strings: string[] = [];
        let numbersExact = true;
        JSON.parse(text, (key, v) => {
          strings.push(key);
          if (typeof v === 'string') strings.push(v);
          return v;
        });
        JSON.stringify(value, (_key, v) => {
          if (typeof v === 'number' && (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v)))) numbersExact = false;
          return v;
        });
        const stringsExact = strings.every((s) => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\u0000'));
        expect(issue === undefined).toBe(stringsExact && numbersExact);
        if (issue) expect(at(value, issue.path)).not.toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
