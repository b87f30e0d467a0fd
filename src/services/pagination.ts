import { badInput } from './validate';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** One page of a list, in the shape the GraphQL layer turns into a Relay connection. */
export interface Page<T> {
  items: { cursor: string; node: T }[];
  hasNextPage: boolean;
  /** Counted only when a client asks for it. */
  totalCount: () => Promise<number>;
}

/*
 * Cursors are opaque to clients: base64url of the row's unique key. Lists order by
 * that key (or by a column that ties on it), so a cursor stays valid while rows are
 * added elsewhere in the list.
 */
export function encodeCursor(key: string | bigint): string {
  return Buffer.from(`c:${key.toString()}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!raw.startsWith('c:') || raw.length > 100) throw badInput(`after: "${cursor}" is not a cursor from this API`);
  return raw.slice(2);
}

export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0) throw badInput('first must be a non-negative integer');
  return Math.min(first, MAX_PAGE);
}

/**
 * Fetches one more row than asked to learn whether another page follows.
 * `fetch` receives the decoded cursor (or undefined) and how many rows to take.
 */
export async function paginate<T>(
  args: PageArgs,
  keyOf: (row: T) => string | bigint,
  fetch: (after: string | undefined, take: number) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Page<T>> {
  const size = pageSize(args.first);
  const after = args.after ? decodeCursor(args.after) : undefined;
  const rows = size === 0 ? [] : await fetch(after, size + 1);
  let counted: Promise<number> | undefined;
  return {
    items: rows.slice(0, size).map((node) => ({ cursor: encodeCursor(keyOf(node)), node })),
    hasNextPage: rows.length > size,
    totalCount: () => (counted ??= count()),
  };
}
