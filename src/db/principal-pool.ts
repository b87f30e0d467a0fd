import pg from 'pg';
import { currentPrincipal } from './principal';

/*
 * The connection layer of row-level security on PostgreSQL: before a query runs on a
 * connection, `app.principal` is set there to the caller's principal (src/db/principal.ts)
 * when it differs from what that connection last had. A query whose principal has not
 * changed costs no extra round trip.
 */

const SET = 'SELECT set_config($1, $2, false)';

export class PrincipalClient extends pg.Client {
  /** What `app.principal` holds on this connection; null when unknown (after a rollback or a failed set). */
  private applied: string | null = '';
  /**
   * This client's queries, one after another: a setting and the query it is for must not
   * have another caller's query (under another principal) run between them.
   */
  private tail: Promise<unknown> = Promise.resolve();

  // A transaction's queries (BEGIN … COMMIT on one checked-out client) are issued in the caller's context.
  override query(config: any, values?: any): any {
    return this.queryAs(currentPrincipal(), config, values);
  }

  queryAs(principal: string, config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    if (typeof values === 'function' || (typeof config === 'object' && (typeof (config as { submit?: unknown }).submit === 'function' || 'callback' in config))) {
      throw new Error('PrincipalClient: only promise queries are supported');
    }
    const run = async () => {
      if (principal !== this.applied) {
        this.applied = null;
        // If this fails the query below never runs: fail closed.
        await super.query(SET, ['app.principal', principal]);
        this.applied = principal;
      }
      const text = typeof config === 'string' ? config : config.text;
      try {
        return await super.query(config as pg.QueryConfig, values);
      } finally {
        // A session-level set_config made inside a transaction is undone by its rollback.
        if (/^\s*ROLLBACK/i.test(text)) this.applied = null;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * pg-pool runs a query on whichever client frees up first, from inside that client's
 * release: by then the caller's context is gone. The principal is captured when the query is
 * asked for, and handed to the client explicitly.
 */
export class PrincipalPool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super({ ...config, Client: PrincipalClient });
  }

  override query(config: any, values?: any): any {
    const principal = currentPrincipal();
    return (async () => {
      const client = (await this.connect()) as unknown as PrincipalClient & pg.PoolClient;
      try {
        const result = await client.queryAs(principal, config, values);
        client.release();
        return result;
      } catch (err) {
        // As pg-pool does: a client whose query failed is not reused.
        client.release(err as Error);
        throw err;
      }
    })();
  }
}
