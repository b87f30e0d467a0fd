import type { AlertEvent, AuditLog, Portfolio } from '../generated/prisma/client';
import type { TransactionRow } from '../services/ledger';
import type { OrderRow } from '../services/trading';
import type { Page } from '../services/pagination';

export interface ConnectionModel<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** graphql-js calls it only when the client selects totalCount. */
  totalCount: () => Promise<number>;
}

// Named per connection type for GraphQL Code Generator's mappers (codegen.ts).
export type PortfolioConnectionModel = ConnectionModel<Portfolio>;
export type AuditEntryConnectionModel = ConnectionModel<AuditLog>;
export type TransactionConnectionModel = ConnectionModel<TransactionRow>;
export type OrderConnectionModel = ConnectionModel<OrderRow>;
export type AlertEventConnectionModel = ConnectionModel<AlertEvent>;

/** A service's page as a Relay connection. */
export function toConnection<T>(page: Page<T>): ConnectionModel<T> {
  return {
    edges: page.items,
    nodes: page.items.map((e) => e.node),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  };
}
