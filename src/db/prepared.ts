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
 */
const MARKER = '/* prepared */';

export const preparedStatement = Prisma.raw(MARKER);

/** The name to prepare a statement under, or none (pg runs it unnamed, parsed and planned each time). */
export function statementName(query: { sql: string }): string | undefined {
  return query.sql.startsWith(MARKER) ? `fg_${createHash('sha1').update(query.sql).digest('base64url')}` : undefined;
}
