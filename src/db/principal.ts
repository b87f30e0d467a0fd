import { AsyncLocalStorage } from 'node:async_hooks';

/*
 * Who the database should act for. On PostgreSQL the connection layer (src/db/principal-pool.ts)
 * copies it into the session setting `app.principal`, which the row-level security policies
 * read (prisma/migrations/*_row_level_security). No principal, no rows: work outside a request
 * sees nothing until it says, in code, that it runs for the system. On PGlite nothing reads it:
 * the application's own checks (src/services/access.ts) are the only wall there.
 */
const SYSTEM = 'system';

interface Scope {
  /** '' (nobody yet), 'system', or a user id. */
  principal: string;
}

const storage = new AsyncLocalStorage<Scope>();

/** The value of `app.principal` the current call should run under. */
export function currentPrincipal(): string {
  return storage.getStore()?.principal ?? '';
}

/** Runs `fn` for one user: the database shows it what that user may see. */
export function asUser<T>(userId: string, fn: () => T | PromiseLike<T>): Promise<T> {
  return runAs(userId, fn);
}

/** Runs `fn` under a principal captured earlier with `currentPrincipal` (work queued by one caller, run later by another). */
export function withPrincipal<T>(principal: string, fn: () => T | PromiseLike<T>): Promise<T> {
  return runAs(principal, fn);
}

/**
 * Runs `fn` under `principal` and returns what it returns, synchronously: for callers that
 * tell a value from a promise (graphql-js execution). A lazy thenable it returns is not started here.
 */
export function inPrincipalScope<T>(principal: string, fn: () => T): T {
  return storage.run({ principal }, fn);
}

/**
 * Runs `fn` for the system: every owner's rows. Only for work that legitimately spans owners
 * (engines, workers, identity lookups before a user is known, seeding, importers).
 */
export function asSystem<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return runAs(SYSTEM, fn);
}

/*
 * A Prisma query is a lazy thenable: it starts when `then` is first called. That call is made
 * here, inside the scope, so that `asSystem(() => db.x.findMany())` runs for the system even
 * though the caller awaits it outside.
 */
function runAs<T>(principal: string, fn: () => T | PromiseLike<T>): Promise<T> {
  return storage.run({ principal }, () => started(fn));
}

function started<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  try {
    const result = fn();
    return isThenable(result) ? new Promise<T>((resolve, reject) => result.then(resolve, reject)) : Promise.resolve(result);
  } catch (err) {
    return Promise.reject(err);
  }
}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<T>).then === 'function';
}

/**
 * Runs `fn` (an HTTP request) with no principal yet; `becomeUser` sets it once the request's
 * credential is resolved, for the rest of the request.
 */
export function inRequestScope<T>(fn: () => T): T {
  return storage.run({ principal: '' }, fn);
}

export function becomeUser(userId: string | null): void {
  const scope = storage.getStore();
  if (!scope) throw new Error('becomeUser outside a request scope');
  scope.principal = userId ?? '';
}

/**
 * For a script that acts as one user from here on (a benchmark's main, say): the rest of the
 * calling function, and what it starts, runs as them. Servers use the scoped forms above.
 */
export function actAsUser(userId: string): void {
  storage.enterWith({ principal: userId });
}

/** Runs `fn` with no principal at all, whatever the caller's: background work started from a request or a test must not inherit it. */
export function withoutPrincipal<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return storage.exit(() => started(fn));
}
