import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isLeafType,
  isListType,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * What one GraphQL document may ask for, enforced before execution on HTTP (Apollo's
 * `validationRules` and a `didResolveOperation` hook) and on WebSocket (graphql-ws's
 * `validate` and `onSubscribe`) alike: graphql-ws runs its own validation, so a limit given
 * to Apollo alone would not reach subscriptions. Every refusal is a BAD_USER_INPUT error
 * naming the limit (introspection: GRAPHQL_VALIDATION_FAILED).
 */
export interface QueryLimits {
  /** Nested selections, counted in fields (fragments followed; introspection fields not counted). */
  maxDepth: number;
  /** Aliased fields in one document. */
  maxAliases: number;
  /** Operation definitions in one document (HTTP batching is off: one document per request). */
  maxOperations: number;
  /** Estimated cost: 1 per object field, times `first` (default 50, at most 500) for connections, times `listSize` for other lists. */
  maxCost: number;
  /** The size assumed for list fields that take no `first` (holdings, lots, buckets…). */
  listSize: number;
  /** `__schema` and `__type` allowed. */
  introspection: boolean;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 10, maxAliases: 30, maxOperations: 5, maxCost: 10_000, listSize: 10, introspection: true };

const DEFAULT_FIRST = 50;
const MAX_FIRST = 500;
// graphql-query-complexity stops walking after this many nodes: a document bigger than
// this is refused as too costly rather than walked to the end.
const MAX_COST_NODES = 20_000;

function refusal(message: string, code = 'BAD_USER_INPUT'): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) map.set(def.name.value, def);
  return map;
}

/** Depth of a selection set in fields, following fragment spreads; a fragment cycle counts as no depth (validation rejects it anyway). */
function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>, limit: number): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    let d = 0;
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      d = 1 + depthOf(sel.selectionSet, fragments, visiting, limit);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      d = depthOf(sel.selectionSet, fragments, visiting, limit);
    } else {
      const name = sel.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      d = depthOf(fragment.selectionSet, fragments, visiting, limit);
      visiting.delete(name);
    }
    if (d > max) max = d;
    // Deep enough to refuse: no need to walk the rest.
    if (max > limit) return max;
  }
  return max;
}

/** The validation rules for both transports. */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  const document: ValidationRule = (context: ValidationContext): ASTVisitor => ({
    Document(node) {
      const operations = node.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operations.length > limits.maxOperations) {
        context.reportError(refusal(`the document holds ${operations.length} operations; at most ${limits.maxOperations} are allowed (QUERY_MAX_OPERATIONS)`));
        return;
      }
      let aliases = 0;
      // Counted over the whole document once, without visiting it: an alias in a fragment counts once.
      const stack: SelectionSetNode[] = [];
      for (const def of node.definitions) if (def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION) stack.push(def.selectionSet);
      while (stack.length) {
        const set = stack.pop()!;
        for (const sel of set.selections) {
          if (sel.kind === Kind.FIELD && sel.alias) aliases++;
          if (sel.kind !== Kind.FRAGMENT_SPREAD && sel.selectionSet) stack.push(sel.selectionSet);
        }
      }
      if (aliases > limits.maxAliases) {
        context.reportError(refusal(`the document uses ${aliases} aliases; at most ${limits.maxAliases} are allowed (QUERY_MAX_ALIASES)`));
      }
      const fragments = fragmentsOf(node);
      for (const op of operations) {
        const depth = depthOf(op.selectionSet, fragments, new Set(), limits.maxDepth);
        if (depth > limits.maxDepth) {
          const name = op.name ? ` ${op.name.value}` : '';
          context.reportError(refusal(`operation${name} is nested more than ${limits.maxDepth} levels deep (QUERY_MAX_DEPTH)`));
        }
      }
    },
  });
  const rules = [document];
  if (!limits.introspection) {
    rules.push((context) => ({
      Field(node) {
        if (node.name.value === '__schema' || node.name.value === '__type') {
          context.reportError(refusal('introspection is disabled on this server (INTROSPECTION=1 enables it)', 'GRAPHQL_VALIDATION_FAILED'));
        }
      },
    }));
  }
  return rules;
}

function costEstimator(listSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    // Introspection answers from the schema, whose size no client controls: free, so that
    // an IDE's full introspection query passes while introspection is allowed at all.
    if (field.name === '__schema' || field.name === '__type' || type.name.startsWith('__')) return 0;
    const own = isLeafType(getNamedType(field.type)) ? 0 : 1;
    if (field.args.some((a) => a.name === 'first')) {
      const first = typeof args.first === 'number' && args.first > 0 ? Math.min(args.first, MAX_FIRST) : DEFAULT_FIRST;
      return own + first * childComplexity;
    }
    if (isListType(getNullableType(field.type))) {
      // A connection's edges and nodes are as many as its `first`, already counted above.
      const counted = type.name.endsWith('Connection') && (field.name === 'edges' || field.name === 'nodes');
      return own + (counted ? 1 : listSize) * childComplexity;
    }
    return own + childComplexity;
  };
}

/*
 * Estimated costs by schema and parsed document (the server keeps one DocumentNode per query
 * text), then by list size, operation name and variables when these are a few plain values:
 * a client repeating a query pays for the estimate once. Each document keeps a bounded
 * number of them; variables holding lists or objects (an ingest's rows) are not keyed.
 */
const costs = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();
const MAX_COSTS_PER_DOCUMENT = 64;

function costKey(variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, limits: QueryLimits): string | null {
  const values = Object.values(variables ?? {});
  if (values.length > 8 || !values.every((v) => v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 100))) return null;
  return JSON.stringify([limits.listSize, operationName ?? null, variables ?? {}]);
}

/**
 * The cost refusal for one operation, or null when it is within `maxCost`. Needs the
 * variables (a `first: $n`), so it runs after validation, before execution. A document
 * the estimator cannot walk (invalid variables, unknown fields) is left to the normal
 * validation and coercion errors.
 */
export function costRefusal(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, limits: QueryLimits): GraphQLError | null {
  const key = costKey(variables, operationName, limits);
  let bySchema = costs.get(schema);
  if (!bySchema) costs.set(schema, (bySchema = new WeakMap()));
  let known = bySchema.get(document);
  let cost: number | null | undefined = key === null ? undefined : known?.get(key);
  if (cost === undefined) {
    cost = estimatedCost(schema, document, variables, operationName, limits);
    if (key !== null && cost !== null) {
      if (!known) bySchema.set(document, (known = new Map()));
      if (known.size >= MAX_COSTS_PER_DOCUMENT) known.clear();
      known.set(key, cost);
    }
  }
  if (cost === null || cost <= limits.maxCost) return null;
  const shown = Number.isFinite(cost) ? String(cost) : 'too large to count';
  return refusal(`the operation's estimated cost ${shown} exceeds the limit of ${limits.maxCost} (QUERY_MAX_COST): ask for fewer items with \`first\` or fewer nested lists`);
}

/** null when the document cannot be estimated (validation reports what is wrong with it). */
function estimatedCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, limits: QueryLimits): number | null {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [costEstimator(limits.listSize)],
      maxQueryNodes: MAX_COST_NODES,
    });
  } catch (err) {
    if (/number of nodes/i.test((err as Error).message)) cost = Infinity;
    else return null;
  }
  return cost;
}
