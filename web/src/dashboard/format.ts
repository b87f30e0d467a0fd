export function money(value: string | number | null | undefined, currency: string): string {
  if (value === null || value === undefined || value === '') return '—';
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(value));
}

export function num(value: string | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(Number(value));
}

/** A fraction as a percentage: "0.0512" → "5.12%". */
export function pct(value: string | number | null | undefined, signed = false): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value) * 100;
  return `${signed && n > 0 ? '+' : ''}${n.toFixed(2)}%`;
}

export function signedMoney(value: string | number | null | undefined, currency: string): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  return `${n > 0 ? '+' : ''}${money(n, currency)}`;
}

export const tone = (value: string | number | null | undefined): string => (value === null || value === undefined ? '' : Number(value) > 0 ? 'up' : Number(value) < 0 ? 'down' : '');

export const isoDate = (d: Date): string => d.toISOString().slice(0, 10);
