import {
  execute,
  getNamedType,
  GraphQLError,
  isInputObjectType,
  isScalarType,
  isSpecifiedScalarType,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context';

type Gateway = ApolloServerOptionsWithGateway<GraphQLContext>['gateway'];

/*
 * HTTP queries that a client repeats run as code compiled for their document (graphql-jit)
 * instead of through graphql-js's interpreter, whose per-field work (argument coercion, a
 * resolve info, completion by type checks) was most of a warm 1,000-holding valuation's CPU.
 * Apollo keeps everything around execution: parsing, validation and the query limits, the
 * context, plugins, error formatting. Apollo Server has no executor option except through
 * its gateway interface, so that is how this plugs in: a "gateway" serving our own schema.
 *
 * What stays with graphql-js, so that its behaviour is unchanged there:
 * - a document's first execution: compiling costs more than one interpreted run, so only a
 *   document seen again (Apollo keeps one parsed DocumentNode per query text) is compiled;
 * - mutations (side effects: no behaviour change is worth risking for a speed-up that only
 *   large reads need) and subscriptions;
 * - introspection; a document graphql-jit cannot compile; one where it would hand a
 *   resolver something else than graphql-js does: it writes default values into its code as
 *   JSON, so a default that is an object once parsed (a Decimal: `risk(confidence: Decimal =
 *   "0.95")`) would arrive as its text;
 * - variables that fail coercion: graphql-jit refuses them before any resolver runs, and
 *   graphql-js then gives the refusal its own words, which Apollo turns into BAD_USER_INPUT
 *   with status 400.
 * Resolvers are the schema's own, DomainError translation included, and graphql-jit's
 * errors carry the original error and its extensions, so `extensions.code` is the same.
 * One difference stays: graphql-jit reads a field without a resolver as a plain property,
 * neither calling a function nor awaiting a promise found there (graphql-js does both), so
 * such a member of a model needs a resolver (connection.ts's totalCount).
 */
const SEEN = Symbol('seen once');
const UNCOMPILABLE = Symbol('not compiled');
type Entry = CompiledQuery | typeof SEEN | typeof UNCOMPILABLE;

/** At most this many operations per document are kept: a document has as many as it names. */
const MAX_OPERATIONS_PER_DOCUMENT = 8;

/**
 * graphql-jit's errors inherit from GraphQLError without being built by it (no extensions
 * object when the original had none, which Apollo's formatting reads): rebuilt as graphql-js's.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  // graphql-js derives locations from AST nodes, which graphql-jit's errors no longer hold.
  return Object.assign(rebuilt, { locations: error.locations });
}

/** A default value that JSON would not carry through unchanged (a parsed custom scalar). */
function objectDefault(input: GraphQLArgument | GraphQLInputField, seen: Set<unknown>): boolean {
  if (input.defaultValue !== null && typeof input.defaultValue === 'object') return true;
  const type = getNamedType(input.type);
  if (!isInputObjectType(type) || seen.has(type)) return false;
  seen.add(type);
  return Object.values(type.getFields()).some((field) => objectDefault(field, seen));
}

/** Whether graphql-jit's run of `document` would hand every resolver what graphql-js would. */
function compilable(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let ok = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition(node) {
        // A variable's own default is left to graphql-js unless it is a built-in scalar's.
        const named = node.defaultValue ? getNamedType(typeFromAST(schema, node.type)) : undefined;
        if (named && !(isScalarType(named) && isSpecifiedScalarType(named))) ok = false;
        return ok ? undefined : BREAK;
      },
      Field(node) {
        // Introspection is rare, and its answers come from graphql-js's own resolvers.
        if (node.name.value === '__schema' || node.name.value === '__type') ok = false;
        const field = typeInfo.getFieldDef();
        if (field?.args.some((arg) => objectDefault(arg, new Set()))) ok = false;
        return ok ? undefined : BREAK;
      },
    }),
  );
  return ok;
}

export function compiledExecution(schema: GraphQLSchema): Gateway {
  const byDocument = new WeakMap<DocumentNode, Map<string, Entry>>();

  const compiled = (document: DocumentNode, operationName: string | undefined): CompiledQuery | null => {
    let entries = byDocument.get(document);
    if (!entries) byDocument.set(document, (entries = new Map()));
    const key = operationName ?? '';
    const entry = entries.get(key);
    if (entry === undefined) {
      if (entries.size >= MAX_OPERATIONS_PER_DOCUMENT) entries.clear();
      entries.set(key, SEEN);
      return null;
    }
    if (entry === SEEN) {
      const query = compilable(schema, document) ? compileQuery(schema, document, operationName) : null;
      const usable = query && isCompiledQuery(query) ? query : UNCOMPILABLE;
      entries.set(key, usable);
      return usable === UNCOMPILABLE ? null : usable;
    }
    return entry === UNCOMPILABLE ? null : entry;
  };

  const interpreted = (document: DocumentNode, operationName: string | undefined, context: GraphQLContext, variables: Record<string, unknown> | undefined) =>
    execute({ schema, document, contextValue: context, variableValues: variables, operationName });

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return {
        executor: async ({ document, operation, operationName, context, request }) => {
          const variables = request.variables;
          const query = operation.operation === 'query' ? compiled(document, operationName ?? undefined) : null;
          if (!query) return interpreted(document, operationName ?? undefined, context as GraphQLContext, variables);
          const result = (await query.query(undefined, context, variables)) as ExecutionResult;
          // No data at all: the variables were refused before execution began.
          if (result.data === undefined && result.errors?.length) return interpreted(document, operationName ?? undefined, context as GraphQLContext, variables);
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    async stop() {},
  };
}
