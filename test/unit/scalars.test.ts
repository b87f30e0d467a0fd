import { GraphQLError } from 'graphql';
import { parseDate, parseDateTime, parseDecimal } from '../../src/graphql/scalars';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as GraphQLError).extensions?.code as string;
  }
}

describe('Decimal', () => {
  test.each([
    ['1234.5600', '1234.56'],
    ['-0.00000001', '-0.00000001'],
    ['.5', '0.5'],
    ['12345678901234567890.1234567890', '12345678901234567890.123456789'],
  ])('accepts %s exactly', (input, expected) => {
    expect(parseDecimal(input).toString()).toBe(expected);
  });

  test('keeps every digit: 0.1 + 0.2 is 0.3', () => {
    expect(parseDecimal('0.1').plus(parseDecimal('0.2')).toFixed()).toBe('0.3');
  });

  test.each(['NaN', 'Infinity', '-Infinity', '1e5', '1E-7', '0x10', '', ' ', '1.2.3', '1,5', '--1', 'abc'])('refuses %p', (input) => {
    expect(code(() => parseDecimal(input))).toBe('BAD_USER_INPUT');
  });

  test('refuses numbers, over-long strings and too many significant digits', () => {
    expect(code(() => parseDecimal(12.5))).toBe('BAD_USER_INPUT');
    expect(code(() => parseDecimal('1'.repeat(65)))).toBe('BAD_USER_INPUT');
    expect(code(() => parseDecimal('1'.repeat(41)))).toBe('BAD_USER_INPUT');
    expect(parseDecimal('1'.repeat(40)).toFixed()).toBe('1'.repeat(40));
  });
});

describe('Date', () => {
  test('accepts real calendar dates, including 29 February of a leap year', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('1999-12-31')).toBe('1999-12-31');
  });

  test.each(['2023-02-29', '2024-13-01', '2024-04-31', '2024-1-5', '20240105', '2024-01-05T00:00:00Z', '0001-01-01', '1800-01-01'])('refuses %p', (input) => {
    expect(code(() => parseDate(input))).toBe('BAD_USER_INPUT');
  });
});

describe('DateTime', () => {
  test('accepts ISO-8601 with a zone and normalizes to UTC', () => {
    expect(parseDateTime('2024-03-01T14:30:00Z').toISOString()).toBe('2024-03-01T14:30:00.000Z');
    expect(parseDateTime('2024-03-01T23:30:00-05:00').toISOString()).toBe('2024-03-02T04:30:00.000Z');
  });

  test.each(['2024-02-30T00:00:00Z', '2024-03-01T14:30:00', '2024-03-01', 'yesterday', '2024-03-01T25:00:00Z'])('refuses %p', (input) => {
    expect(code(() => parseDateTime(input))).toBe('BAD_USER_INPUT');
  });
});
