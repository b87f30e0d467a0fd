import { executeSync as execute, parse, type ExecutionArgs } from 'graphql';
import { buildSchema } from '../../src/graphql/schema';
import { compileLeafExecution } from '../../src/realtime/leaf-execution';
import type { NavUpdate } from '../../src/realtime';

/*
 * The compiled execution of a live subscription's event must give what graphql-js's
 * `execute` gives for the same event, byte for byte once serialized, or decline (null).
 */
const schema = buildSchema();
const PID = '6f1c2a57-8d1e-4d5b-9a57-0d7c9d3f7a10';
const update: NavUpdate = { portfolioId: PID, nav: '1234.5000000001', previousNav: '1200', change: '34.5000000001', changePct: '0.0287500000', asOf: new Date('2026-12-01T10:00:00.123Z'), seq: 7 };
const first: NavUpdate = { ...update, previousNav: null, change: null, changePct: null, seq: 1 };
const argsOf = (query: string, variableValues: Record<string, unknown> = { id: PID }): ExecutionArgs => ({ schema, document: parse(query), variableValues, contextValue: {} });
const both = (args: ExecutionArgs, event: object) => ({ compiled: compileLeafExecution(args)?.(event, {}), executed: execute({ ...args, rootValue: event }) });

describe('compiled execution of leaf-only subscription events', () => {
  test.each([
    ['every field', `subscription($id: ID!) { navUpdated(portfolioId: $id) { portfolioId nav previousNav change changePct asOf seq } }`],
    ['aliases, __typename, an inline argument', `subscription { live: navUpdated(portfolioId: "${PID}") { __typename n: nav seq asOf } }`],
    ['a named operation among others', `query Q { me { id } } subscription S($id: ID!) { navUpdated(portfolioId: $id) { nav change } }`],
  ])('%s: the same result as execute, for a first and a later update', (_name, query) => {
    const args = { ...argsOf(query), operationName: query.includes('subscription S') ? 'S' : undefined };
    expect(compileLeafExecution(args)).not.toBeNull();
    for (const event of [update, first]) {
      const { compiled, executed } = both(args, event);
      expect(executed).not.toHaveProperty('errors');
      expect(JSON.stringify(compiled)).toBe(JSON.stringify(executed));
    }
  });

  test.each([
    ['a fragment', `subscription($id: ID!) { navUpdated(portfolioId: $id) { ...F } } fragment F on NavUpdate { nav }`],
    ['a directive', `subscription($id: ID!, $x: Boolean!) { navUpdated(portfolioId: $id) { nav @include(if: $x) } }`],
    ['a response key twice', `subscription($id: ID!) { navUpdated(portfolioId: $id) { nav nav } }`],
    ['two root fields', `subscription($id: ID!) { navUpdated(portfolioId: $id) { nav } orderUpdated(portfolioId: $id) { id } }`],
    ['object fields under the root', `subscription { alertTriggered { id rule { id } } }`],
    ['a query', `query { me { id } }`],
  ])('declines %s', (_name, query) => {
    expect(compileLeafExecution(argsOf(query, { id: PID, x: true }))).toBeNull();
  });

  test('an event execute would answer with errors is left to execute (null)', () => {
    const args = argsOf(`subscription($id: ID!) { navUpdated(portfolioId: $id) { nav seq } }`);
    for (const bad of [{ ...update, nav: null }, { ...update, seq: 'seven' }]) {
      expect(compileLeafExecution(args)!(bad, {})).toBeNull();
      expect(execute({ ...args, rootValue: bad }).errors?.length).toBeGreaterThan(0);
    }
  });

  test('a function-valued property (a resolver to graphql-js) is left to execute', () => {
    const args = argsOf(`subscription($id: ID!) { navUpdated(portfolioId: $id) { nav seq } }`);
    const event = { ...update, seq: () => 8 };
    expect(compileLeafExecution(args)!(event, {})).toBeNull();
    expect(execute({ ...args, rootValue: event })).toEqual({ data: { navUpdated: { nav: update.nav, seq: 8 } } });
  });
});
