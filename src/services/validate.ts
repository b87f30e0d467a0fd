import { DomainError } from '../domain/errors';

/* Boundary checks shared by the services: each failure is a BAD_USER_INPUT naming the field. */

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export function badInput(message: string): DomainError {
  return new DomainError('BAD_USER_INPUT', message);
}

/** An ISO 4217 code, upper-cased. */
export function currencyCode(value: string, field = 'currency'): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code) || !CURRENCIES.has(code)) throw badInput(`${field}: "${value}" is not an ISO 4217 currency code`);
  return code;
}

/** An ISO 3166-1 alpha-2 code, upper-cased. */
export function countryCode(value: string, field = 'country'): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw badInput(`${field}: "${value}" is not an ISO 3166-1 alpha-2 country code`);
  return code;
}

export function symbol(value: string, field = 'symbol'): string {
  const s = value.trim().toUpperCase();
  if (!/^[A-Z0-9][A-Z0-9.\-/^:]{0,31}$/.test(s)) throw badInput(`${field}: "${value}" is not a valid symbol (1-32 of A-Z 0-9 . - / ^ :)`);
  return s;
}

/** Trimmed, non-empty, at most `max` characters. */
export function text(value: string, field: string, max = 200): string {
  const s = value.trim();
  if (!s) throw badInput(`${field} must not be empty`);
  if (s.length > max) throw badInput(`${field} must be at most ${max} characters`);
  return s;
}

export function optionalText(value: string | null | undefined, field: string, max = 200): string | null {
  return value == null || value.trim() === '' ? null : text(value, field, max);
}

export function email(value: string): string {
  const s = value.trim().toLowerCase();
  if (s.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(s)) throw badInput(`email: "${value}" is not an email address`);
  return s;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so callers treat it as not found. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
