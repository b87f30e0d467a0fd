/*
 * Tests act as the operator: their own reads and writes (seeding rows, checking what a
 * request left behind) run in the system context, as a migration or an admin's psql would.
 * What the server does for a request, a socket or its background work never inherits it
 * (createApp starts everything with no principal; each request starts with nobody), so the
 * suites still exercise row-level security wherever the server touches the database.
 * test/integration/row-level-security.test.ts runs its own queries as chosen users instead.
 */
import { asSystem } from '../../src/db/principal';

type Fn = (...args: any[]) => unknown;

// No test here takes a done callback: every one returns its promise.
function inSystem(fn: Fn | undefined): Fn | undefined {
  return typeof fn === 'function' ? (...args: unknown[]) => asSystem(() => fn(...args)) : fn;
}

function wrapHook(hook: (fn: Fn, timeout?: number) => void) {
  return (fn: Fn, timeout?: number) => hook(inSystem(fn)!, timeout);
}

function wrapTest<T extends Fn & { each: Fn; only: Fn; skip: Fn }>(orig: T): T {
  const wrapped = ((name: string, fn?: Fn, timeout?: number) => orig(name, inSystem(fn), timeout)) as unknown as T;
  Object.assign(wrapped, orig);
  wrapped.each = (...table: unknown[]) => {
    const bound = orig.each(...table) as Fn;
    return (name: string, fn: Fn, timeout?: number) => bound(name, inSystem(fn), timeout);
  };
  wrapped.only = ((name: string, fn?: Fn, timeout?: number) => orig.only(name, inSystem(fn), timeout)) as T['only'];
  return wrapped;
}

const g = globalThis as unknown as Record<string, any>;
g.test = wrapTest(g.test);
g.it = wrapTest(g.it);
for (const hook of ['beforeAll', 'beforeEach', 'afterAll', 'afterEach']) g[hook] = wrapHook(g[hook]);
