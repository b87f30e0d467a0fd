// Resolver types are generated from schema.graphql (the source of truth), never hand-written.
import type { CodegenConfig } from '@graphql-codegen/cli';

const models = '../generated/prisma/client';
const connections = '../graphql/connection';

// Client side: operations as plain strings (no graphql-js at run time), scalars as the strings they travel as.
const clientPreset = {
  presetConfig: { fragmentMasking: false },
  config: { documentMode: 'string', enumsAsTypes: true, useTypeImports: true, scalars: { Decimal: 'string', Date: 'string', DateTime: 'string' } },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../graphql/context#GraphQLContext',
        useIndexSignature: false,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        scalars: {
          Decimal: { input: "import('decimal.js').Decimal", output: 'string | { toFixed(): string }' },
          Date: { input: 'string', output: 'string | Date' },
          DateTime: { input: 'Date', output: 'string | Date' },
        },
        mappers: {
          User: `${models}#User as UserModel`,
          ApiKey: `${models}#ApiKey as ApiKeyModel`,
          Portfolio: `${models}#Portfolio as PortfolioModel`,
          Security: `${models}#Security as SecurityModel`,
          AuditEntry: `${models}#AuditLog as AuditLogModel`,
          PortfolioConnection: `${connections}#PortfolioConnectionModel`,
          AuditEntryConnection: `${connections}#AuditEntryConnectionModel`,
          Transaction: '../services/ledger#TransactionRow',
          TransactionConnection: `${connections}#TransactionConnectionModel`,
          Lot: '../services/ledger#LotWithSymbol',
          RealizedGain: '../services/ledger#RealizedGainWithSymbol',
          Order: '../services/trading#OrderRow',
          OrderConnection: `${connections}#OrderConnectionModel`,
          Fill: `${models}#Fill as FillModel`,
          AlertRule: '../services/alerts#AlertRuleRow',
          AlertEvent: `${models}#AlertEvent as AlertEventModel`,
          AlertEventConnection: `${connections}#AlertEventConnectionModel`,
          NavUpdate: '../realtime#NavUpdate as NavUpdateModel',
          PriceTick: '../realtime#PriceTick as PriceTickModel',
        },
      },
    },
    // Typed client operations (client preset): the examples, then the dashboard (web/).
    'examples/generated/': { preset: 'client', documents: ['examples/**/*.ts', '!examples/generated/**'], ...clientPreset },
    'web/src/gql/': { preset: 'client', documents: ['web/src/dashboard/**/*.{ts,tsx}'], ...clientPreset },
  },
};

export default config;
