import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import type Decimal from 'decimal.js';
import { D, textOf } from '../domain/decimal';

/*
 * Scalars refuse bad literals at the boundary with BAD_USER_INPUT, before any resolver
 * runs: a malformed amount never reaches a service.
 */

const MAX_DECIMAL_LENGTH = 64;
// Plain decimal notation only: no exponent (1e999999 would be a denial of service), no NaN/Infinity.
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const MAX_SIGNIFICANT_DIGITS = 40;

function reject(message: string): never {
  throw new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function parseDecimal(value: unknown): Decimal {
  if (typeof value !== 'string') reject(`Decimal must be a string such as "12.34", got ${typeof value}`);
  const s = value.trim();
  if (s.length > MAX_DECIMAL_LENGTH) reject(`Decimal is longer than ${MAX_DECIMAL_LENGTH} characters`);
  if (!DECIMAL.test(s)) reject(`"${s}" is not a decimal number (digits, one optional point, no exponent)`);
  const d = new D(s);
  if (d.sd() > MAX_SIGNIFICANT_DIGITS) reject(`"${s}" has more than ${MAX_SIGNIFICANT_DIGITS} significant digits`);
  return d;
}

function serializeDecimal(value: unknown): string {
  if (typeof value === 'string') return parseDecimal(value).toFixed();
  if (value && typeof (value as { toFixed?: unknown }).toFixed === 'function' && typeof value !== 'number') {
    return textOf(value as Decimal);
  }
  throw new GraphQLError(`cannot serialize ${typeof value} as Decimal`);
}

function literal(ast: ValueNode, parse: (v: unknown) => unknown, name: string) {
  // Numbers written without quotes lose nothing as long as they are parsed from their source text.
  if (ast.kind === Kind.STRING || ((ast.kind === Kind.INT || ast.kind === Kind.FLOAT) && name === 'Decimal')) return parse(ast.value);
  reject(`${name} must be written as a string`);
}

export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  serialize: serializeDecimal,
  parseValue: parseDecimal,
  parseLiteral: (ast) => literal(ast, parseDecimal, 'Decimal'),
});

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseDate(value: unknown): string {
  if (typeof value !== 'string' || value.length !== 10) reject('Date must be a string YYYY-MM-DD');
  const m = DATE.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!d || d.toISOString().slice(0, 10) !== value || d.getUTCFullYear() < 1900) reject(`"${value}" is not a calendar date (YYYY-MM-DD)`);
  return value;
}

export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  serialize: (value) => (value instanceof Date ? value.toISOString().slice(0, 10) : parseDate(value)),
  parseValue: parseDate,
  parseLiteral: (ast) => literal(ast, parseDate, 'Date'),
});

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || value.length > 40 || !DATETIME.test(value)) reject('DateTime must be an ISO-8601 string with a time zone, e.g. 2024-03-01T14:30:00Z');
  const d = new Date(value);
  // Date would roll 2024-02-30 over to March; the calendar part must survive the round trip.
  if (Number.isNaN(d.getTime()) || !sameCalendarDay(value, d)) reject(`"${value}" is not a valid instant`);
  return d;
}

function sameCalendarDay(text: string, d: Date): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const minutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
  return new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 10) === text.slice(0, 10);
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value.toISOString() : parseDateTime(value).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => literal(ast, parseDateTime, 'DateTime'),
});
