import {
  defaultFieldResolver,
  getArgumentValues,
  getNullableType,
  isLeafType,
  isNonNullType,
  isObjectType,
  Kind,
  OperationTypeNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLLeafType,
} from 'graphql';
import { buildExecutionContext, buildResolveInfo } from 'graphql/execution/execute';

/** Executes one event of a subscription: its result, or null when the event needs graphql-js's own execution. */
export type LeafExecution = (event: unknown, contextValue: unknown) => ExecutionResult | Promise<ExecutionResult | null> | null;

type Leaf = { key: string; typename: string } | { key: string; name: string; type: GraphQLLeafType; nonNull: boolean };

/**
 * graphql-js's execution of a subscription event, for the common shape of a live document:
 * one root field whose selection is scalars and enums read off the resolved object
 * (`navUpdated(portfolioId: $id) { nav change seq … }`). The operation, its variables and
 * the root field's arguments are resolved once, when the subscription starts, instead of on
 * every event; an event then costs the root resolver and one `serialize` per leaf (~2 µs
 * against ~20 µs for `execute`). Anything else — fragments, directives, object or list
 * fields, field resolvers, `isTypeOf` — is not compiled (null: use `execute`), and an event
 * whose completion would be an error (a null for a non-null field, a value a scalar refuses,
 * a rejected root resolver) returns null so that `execute` produces graphql-js's errors.
 * What it returns is what `execute` returns for the same event.
 */
export function compileLeafExecution(args: ExecutionArgs): LeafExecution | null {
  if (args.fieldResolver || args.typeResolver) return null;
  const exe = buildExecutionContext(args);
  if (!('schema' in exe) || exe.operation.operation !== OperationTypeNode.SUBSCRIPTION) return null;
  const rootType = exe.schema.getSubscriptionType();
  const [root, ...others] = exe.operation.selectionSet.selections;
  if (!rootType || !root || others.length || root.kind !== Kind.FIELD || root.directives?.length || !root.selectionSet) return null;
  const fieldDef = rootType.getFields()[root.name.value];
  const objectType = fieldDef && getNullableType(fieldDef.type);
  if (!fieldDef || !isObjectType(objectType) || objectType.isTypeOf) return null;
  const fields = objectType.getFields();
  const leaves: Leaf[] = [];
  const keys = new Set<string>();
  for (const sel of root.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length || sel.arguments?.length || sel.selectionSet) return null;
    const key = sel.alias?.value ?? sel.name.value;
    // A response key given twice merges its field nodes in graphql-js: left to it.
    if (keys.has(key)) return null;
    keys.add(key);
    if (sel.name.value === '__typename') {
      leaves.push({ key, typename: objectType.name });
      continue;
    }
    const f = fields[sel.name.value];
    const type = f && getNullableType(f.type);
    if (!f || (f.resolve && f.resolve !== defaultFieldResolver) || !isLeafType(type)) return null;
    leaves.push({ key, name: sel.name.value, type, nonNull: isNonNullType(f.type) });
  }
  let argValues: Record<string, unknown>;
  try {
    argValues = getArgumentValues(fieldDef, root, exe.variableValues);
  } catch {
    return null;
  }
  const rootKey = root.alias?.value ?? root.name.value;
  const resolve = fieldDef.resolve ?? exe.fieldResolver;
  const path = { prev: undefined, key: rootKey, typename: rootType.name };

  const complete = (value: unknown): ExecutionResult | null => {
    if (value === null || typeof value !== 'object') return null;
    const out: Record<string, unknown> = {};
    for (const leaf of leaves) {
      if ('typename' in leaf) {
        out[leaf.key] = leaf.typename;
        continue;
      }
      const v = (value as Record<string, unknown>)[leaf.name];
      // A function-valued property is a resolver to graphql-js's default field resolver.
      if (typeof v === 'function') return null;
      if (v == null) {
        if (leaf.nonNull) return null;
        out[leaf.key] = null;
        continue;
      }
      let serialized: unknown;
      try {
        serialized = leaf.type.serialize(v);
      } catch {
        return null;
      }
      if (serialized == null) return null;
      out[leaf.key] = serialized;
    }
    return { data: { [rootKey]: out } };
  };

  return (event, contextValue) => {
    const info = buildResolveInfo({ ...exe, rootValue: event, contextValue }, fieldDef, [root], rootType, path);
    let value: unknown;
    try {
      value = resolve(event, argValues, contextValue, info);
    } catch {
      return null;
    }
    if (isThenable(value)) return Promise.resolve(value).then(complete, () => null);
    return complete(value);
  };
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => v != null && typeof (v as PromiseLike<unknown>).then === 'function';
