import type { AlertEvent, AuditLog, Portfolio } from '../generated/prisma/client';
import type { TransactionRow } from '../services/ledger';
import type { OrderRow } from '../services/trading';
import type { Page } from '../services/pagination';

export interface ConnectionModel<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Called only when the client selects totalCount. */
  totalCount: () => Promise<number>;
}

// Named per connection type for GraphQL Code Generator's mappers (codegen.ts).
export type PortfolioConnectionModel = ConnectionModel<Portfolio>;
export type AuditEntryConnectionModel = ConnectionModel<AuditLog>;
export type TransactionConnectionModel = ConnectionModel<TransactionRow>;
export type OrderConnectionModel = ConnectionModel<OrderRow>;
export type AlertEventConnectionModel = ConnectionModel<AlertEvent>;

/**
 * Every connection type's totalCount, called explicitly: graphql-js's default resolver
 * would call the function, but the executor of repeated queries (graphql-jit,
 * src/server/compiled-execution.ts) reads a field without a resolver as a plain value.
 */
export const Connection = {
  totalCount: (connection: ConnectionModel<unknown>) => connection.totalCount(),
};

/** A service's page as a Relay connection. */
export function toConnection<T>(page: Page<T>): ConnectionModel<T> {
  return {
    edges: page.items,
    nodes: page.items.map((e) => e.node),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  };
}
