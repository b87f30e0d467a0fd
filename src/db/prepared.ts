import { createHash } from 'node:crypto';
import { Prisma } from '../generated/prisma/client';

/*
 * Statements run on every fill (TradingService.readFillTarget, LedgerService.book) start with
 * this marker, and on PostgreSQL each connection prepares them under a name derived from
 * their text: parsed, rewritten for row-level security and planned once per connection
 * instead of on every fill (that was a third of the server's CPU per fill). Only marked
 * statements: their texts are few (lists travel as one parameter), whereas naming every
 * query would let each connection's prepared statements grow without bound. On PGlite it is
 * only a comment.
 *
 * A prepared statement may run on a generic plan (PostgreSQL tries one from its sixth
 * execution on a connection), where a parameter is not a constant: an expression of one is
 * evaluated wherever it stands, so a list parameter belongs in a FROM item (`unnest(…)`),
 * evaluated once, never in a per-row condition such as `= ANY(…)`.
 */
const MARKER = '/* prepared */';

export const preparedStatement = Prisma.raw(MARKER);

/** Names by statement text: the few marked texts recur on every fill, and hashing a long text each time cost more than the lookup. */
const names = new Map<string, string>();

/** The name to prepare a statement under, or none (pg runs it unnamed, parsed and planned each time). */
export function statementName(query: { sql: string }): string | undefined {
  if (!query.sql.startsWith(MARKER)) return undefined;
  let name = names.get(query.sql);
  if (name === undefined) {
    name = `fg_${createHash('sha1').update(query.sql).digest('base64url')}`;
    names.set(query.sql, name);
  }
  return name;
}
