import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { mapSchema, MapperKind } from '@graphql-tools/utils';
import type { Resolvers } from '../generated/graphql';
import { DateScalar, DateTimeScalar, DecimalScalar } from './scalars';
import { toGraphQLError } from './errors';
import { Connection } from './connection';
import { Query } from './resolvers/query';
import { HardeningMutation, SharingPortfolio } from './resolvers/hardening';
import { Mutation } from './resolvers/mutation';
import { Fill, LedgerMutation, LedgerPortfolio, Lot, RealizedGain, Transaction } from './resolvers/ledger';
import { Order, TradingMutation, TradingPortfolio, TradingQuery } from './resolvers/trading';
import { AuditEntry, Portfolio } from './resolvers/types';
import { MarketDataMutation, MarketDataQuery, ValuationPortfolio } from './resolvers/valuation';
import { AnalyticsMutation, AnalyticsPortfolio, AnalyticsQuery } from './resolvers/analytics';
import { AlertEvent, AlertRule, RealtimeMutation, RealtimePortfolio, Subscription } from './resolvers/realtime';

export const SCHEMA_PATH = path.resolve(__dirname, '../../schema.graphql');

const resolvers: Resolvers = {
  Decimal: DecimalScalar,
  Date: DateScalar,
  DateTime: DateTimeScalar,
  Query: { ...Query, ...TradingQuery, ...MarketDataQuery, ...AnalyticsQuery },
  Mutation: { ...Mutation, ...HardeningMutation, ...LedgerMutation, ...TradingMutation, ...MarketDataMutation, ...AnalyticsMutation, ...RealtimeMutation },
  Portfolio: { ...Portfolio, ...SharingPortfolio, ...LedgerPortfolio, ...TradingPortfolio, ...ValuationPortfolio, ...AnalyticsPortfolio, ...RealtimePortfolio },
  PortfolioConnection: Connection,
  TransactionConnection: Connection,
  OrderConnection: Connection,
  AuditEntryConnection: Connection,
  AlertEventConnection: Connection,
  Transaction,
  Lot,
  RealizedGain,
  Order,
  Fill,
  AuditEntry,
  AlertRule,
  AlertEvent,
  Subscription,
};

/**
 * Every resolver's DomainError becomes a coded GraphQL error here, once, so that HTTP
 * (Apollo) and WebSocket (graphql-ws) report the same `extensions.code`.
 */
function codedErrors(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field) => {
      // Default resolvers only read properties: they have no DomainError to translate, and
      // leaving them alone keeps a 1,000-holding valuation's ~9,000 leaf fields unwrapped.
      const resolve = field.resolve;
      if (!resolve || resolve === defaultFieldResolver) return field;
      return {
        ...field,
        // Synchronous results stay synchronous: an async wrapper would make every field a promise.
        resolve: (source, args, context, info) => {
          try {
            const result = resolve(source, args, context, info);
            return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(toGraphQLError(err))) : result;
          } catch (err) {
            throw toGraphQLError(err);
          }
        },
      };
    },
  });
}

export function buildSchema(): GraphQLSchema {
  return codedErrors(makeExecutableSchema({ typeDefs: readFileSync(SCHEMA_PATH, 'utf8'), resolvers: resolvers as never }));
}
