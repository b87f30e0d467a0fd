import type { PrismaClient } from '../generated/prisma/client';

export type Db = PrismaClient;
/** The client handed to a `$transaction` callback. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** Prisma's error for a unique constraint, or the driver's (src/db/direct.ts), optionally on a given column. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const e = err as { code?: string; detail?: string; meta?: { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } };
  // PostgreSQL's own code; its detail names the key's columns: `Key (a, b)=(…) already exists.`
  if (e?.code === '23505') return !column || (/^Key \(([^)]*)\)=/.exec(e.detail ?? '')?.[1] ?? '').split(', ').includes(column);
  if (e?.code !== 'P2002') return false;
  if (!column) return true;
  const fields = e.meta?.driverAdapterError?.cause?.constraint?.fields ?? (Array.isArray(e.meta?.target) ? (e.meta.target as string[]) : []);
  return fields.some((f) => f.replace(/"/g, '') === column);
}
