import { DURATION_PATTERN, formatDuration, INSTANT_OR_DURATION_PATTERN, MAX_DURATION_MS, parseDuration, parseInstant } from '../../src/shared/duration';
import { limitSchema } from '../../src/policy/limit-schema';
import { durationSchema } from '../../src/policy/policy-schema';

const NOW = new Date('2025-06-01T12:00:00Z');

describe('parseDuration', () => {
  it.each([
    ['1s', 1_000],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['4h', 14_400_000],
    ['2d', 172_800_000],
    ['36500d', MAX_DURATION_MS],
    ['876000h', MAX_DURATION_MS],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(DURATION_PATTERN.test(text)).toBe(true);
  });

  it.each([
    ['zero', '0s'],
    ['zero days', '0d'],
    ['a leading zero', '07d'],
    ['a leading zero before zero', '00m'],
    ['a fraction', '1.5h'],
    ['a fraction without a leading digit', '.5h'],
    ['a negative number', '-1d'],
    ['a plus sign', '+1d'],
    ['a leading space', ' 1d'],
    ['a trailing space', '1d '],
    ['a space before the unit', '1 d'],
    ['upper case', '30D'],
    ['upper case minutes', '15M'],
    ['no unit', '30'],
    ['no number', 'd'],
    ['a unit it does not know', '2w'],
    ['milliseconds', '500ms'],
    ['two units', '1h30m'],
    ['a word', '24 hours'],
    ['an exponent', '1e3s'],
    ['the empty string', ''],
  ])('refuses %s (%j)', (_name, text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    ['just over 100 years', '36501d'],
    ['more seconds than fit', `${MAX_DURATION_MS / 1000 + 1}s`],
    ['beyond a safe integer', '9007199254740993d'],
    ['beyond a double', `${'9'.repeat(400)}s`],
  ])('refuses a duration longer than 100 years: %s', (_name, text) => {
    expect(DURATION_PATTERN.test(text)).toBe(true);
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to text that parses to the same value', () => {
    for (const ms of [1_000, 90_000, 1_800_000, 14_400_000, 172_800_000, MAX_DURATION_MS]) expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0ms');
  });
});

describe('parseInstant', () => {
  it('reads a duration as that long before now', () => {
    expect(parseInstant('30d', NOW)?.toISOString()).toBe('2025-05-02T12:00:00.000Z');
    expect(parseInstant('2h', NOW)?.toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(parseInstant('36500d', NOW)?.getUTCFullYear()).toBe(1925);
  });

  it.each([
    ['2025-03-01', '2025-03-01T00:00:00.000Z'],
    ['2025-03-01T09:30:00Z', '2025-03-01T09:30:00.000Z'],
    ['2025-03-01T09:30:00+02:00', '2025-03-01T07:30:00.000Z'],
    ['2025-03-01 09:30:00Z', '2025-03-01T09:30:00.000Z'],
  ])('reads the ISO-8601 date or time %s', (text, iso) => {
    expect(parseInstant(text, NOW)?.toISOString()).toBe(iso);
    expect(INSTANT_OR_DURATION_PATTERN.test(text)).toBe(true);
  });

  it.each([
    ['a bare number (Date.parse would read 7 as the year 2001)', '7'],
    ['a bare year', '2025'],
    ['a date in words', 'Mar 1 2025'],
    ['a word', 'yesterday'],
    ['a month that does not exist', '2025-13-01'],
    ['a time that does not parse', '2025-03-01Tnoon'],
    ['a leading space', ' 2025-03-01'],
    ['upper case', '30D'],
    ['zero', '0d'],
    ['a fraction', '1.5d'],
    ['a duration longer than 100 years', '99999999999d'],
    ['the empty string', ''],
  ])('refuses %s (%j)', (_name, text) => {
    expect(parseInstant(text, NOW)).toBeUndefined();
  });

  it('the pattern admits exactly the shapes parseInstant reads', () => {
    for (const text of ['1s', '30d', '2025-03-01', '2025-03-01T09:00Z']) expect(INSTANT_OR_DURATION_PATTERN.test(text)).toBe(true);
    for (const text of ['0d', '07d', '30D', '1.5h', ' 30d', '7', '2025', 'yesterday']) expect(INSTANT_OR_DURATION_PATTERN.test(text)).toBe(false);
  });
});

describe('policy durations read with parseDuration', () => {
  it('an SLA or timeout longer than 100 years is refused with the limit, not read as undefined', () => {
    expect(durationSchema.safeParse('4h')).toMatchObject({ success: true, data: 14_400_000 });
    expect(durationSchema.safeParse('4 h').error?.issues.map((issue) => issue.message)).toEqual(['expected a duration such as 90s, 30m, 4h or 2d']);
    expect(durationSchema.safeParse('99999999999d').error?.issues.map((issue) => issue.message)).toEqual(['a duration is at most 36500d']);
  });

  it('a limit window beyond what parseDuration reads is outside 1m to 90d', () => {
    const window = (text: string) => limitSchema.shape.window.safeParse(text);
    expect(window('7d')).toMatchObject({ success: true, data: { text: '7d', ms: 604_800_000 } });
    expect(window('99999999999d').error?.issues.map((issue) => issue.message)).toEqual(['a window is from 1m to 90d']);
  });
});
