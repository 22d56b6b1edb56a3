import { canonicalHash } from '../../src/evidence/payload-hash';
import { canonicalJson } from '../../src/shared/canonical-json';

/** The IEEE 754 double with the given bit pattern (how RFC 8785 Appendix B lists its inputs). */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  describe('object keys', () => {
    it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      expect(canonicalJson(input)).toBe(
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
          '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });

    it('puts a surrogate pair (U+1F600) before U+FB33, unlike code point order', () => {
      expect(canonicalJson({ '\ufb33': 1, '\ud83d\ude00': 2 })).toBe('{"\ud83d\ude00":2,"\ufb33":1}');
    });

    it('orders by code unit, not locale: uppercase before lowercase, shorter prefix first', () => {
      expect(canonicalJson({ b: 1, a: 2, B: 3, aa: 4, '': 5 })).toBe('{"":5,"B":3,"a":2,"aa":4,"b":1}');
    });

    it('sorts nested objects, including objects inside arrays, and keeps array order', () => {
      const value = { z: [{ y: 1, x: [3, 2, 1] }, { b: { d: null, c: true } }], a: {} };
      expect(canonicalJson(value)).toBe('{"a":{},"z":[{"x":[3,2,1],"y":1},{"b":{"c":true,"d":null}}]}');
    });

    it('drops undefined object members and writes undefined array items as null (like JSON.stringify)', () => {
      expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
      expect(canonicalJson([1, undefined, 2])).toBe('[1,null,2]');
    });
  });

  describe('numbers (RFC 8785 Appendix B)', () => {
    it.each([
      ['0000000000000000', '0'],
      ['8000000000000000', '0'], // -0
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ])('%s → %s', (hex, expected) => {
      expect(canonicalJson(double(hex))).toBe(expected);
    });

    it('serialises literals written in other spellings the same way', () => {
      expect(canonicalJson([1e21, 0.000001, 1e-7, -0, 4.5, 2e-3, 1e30, 100, 1.0])).toBe('[1e+21,0.000001,1e-7,0,4.5,0.002,1e+30,100,1]');
    });

    it.each([NaN, Infinity, -Infinity])('rejects %s', (value) => {
      expect(() => canonicalJson(value)).toThrow(TypeError);
      expect(() => canonicalJson({ nested: [value] })).toThrow(TypeError);
    });
  });

  describe('strings', () => {
    it('escapes control characters as lowercase \\u00xx and keeps non-ASCII literal', () => {
      expect(canonicalJson('\u000f')).toBe('"\\u000f"');
      expect(canonicalJson('\u001f\u0000')).toBe('"\\u001f\\u0000"');
      expect(canonicalJson('\u20ac')).toBe('"\u20ac"');
      expect(canonicalJson('\ud83d\ude00')).toBe('"\ud83d\ude00"');
      expect(canonicalJson('\u007f')).toBe('"\u007f"');
    });

    it('uses the short escapes for \\b \\t \\n \\f \\r " and \\\\, and leaves / alone', () => {
      expect(canonicalJson('\b\t\n\f\r"\\/')).toBe('"\\b\\t\\n\\f\\r\\"\\\\/"');
    });
  });

  it('reproduces the RFC 8785 §3.2.2.3 sample', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('serialises null, booleans and empty containers', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(10n)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson(Symbol('s'))).toThrow(TypeError);
  });
});

describe('canonicalHash', () => {
  it('is sha256 of the canonical form, independent of key order and number spelling', () => {
    const a = canonicalHash({ amount: 500, currency: 'EUR', meta: { b: [1, 2], a: 1.0 } });
    const b = canonicalHash(JSON.parse('{"meta":{"a":1,"b":[1,2]},"currency":"EUR","amount":5e2}'));
    expect(a).toBe(b);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes with any value, and with array order', () => {
    expect(canonicalHash({ amount: 500 })).not.toBe(canonicalHash({ amount: 501 }));
    expect(canonicalHash([1, 2])).not.toBe(canonicalHash([2, 1]));
    expect(canonicalHash({ a: null })).not.toBe(canonicalHash({}));
  });

  it('matches an independently computed digest', () => {
    // sha256 of the 7 bytes {"a":1}
    expect(canonicalHash({ a: 1 })).toBe('sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });
});
