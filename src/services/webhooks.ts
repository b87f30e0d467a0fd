import { createHmac, randomUUID } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Prisma, type AlertDelivery } from '../generated/prisma/client';
import { D } from '../domain/decimal';
import type { EventBus } from '../events/bus';
import type { Db, Tx } from './db';
import type { ServiceContext } from './context';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { badInput } from './validate';
import { asSystem } from '../db/principal';

/*
 * Webhook delivery of alert events.
 *
 * A rule with a webhookUrl gets one alert_deliveries row per firing, inserted in the
 * transaction that inserts the alert_events row (AlertService.recordFiring): the event's
 * unique dedupe_key makes the delivery exactly-once to create, whatever the number of
 * server processes. Every process runs a WebhookWorker; a worker claims due rows in one
 * statement (`FOR UPDATE SKIP LOCKED`, attempts + 1, next_attempt_at pushed past the
 * attempt's timeout as a lease), posts outside any transaction, then records the outcome
 * guarded by the attempt number it claimed. Two workers never hold the same row; a worker
 * that dies mid-attempt leaves a row whose lease expires and another worker retries it (the
 * receiver de-duplicates on the Idempotency-Key header, the event id).
 *
 * Status: PENDING (never tried) → FAILED (an attempt failed, next_attempt_at set) →
 * DELIVERED (a 2xx), or DEAD after WEBHOOK_MAX_ATTEMPTS failures. Each failed attempt is an
 * alert_retries row (its error, the receiver's HTTP status if it answered, when the next attempt
 * is due) and a DEAD delivery has its alert_dlq row (the payload it sent, the URL, the attempts
 * and the last error), each written in the transaction that changes the delivery's status.
 * An attempt whose worker died is not a retry row: its lease expiring is the only trace, and the
 * next claim counts it (attempts).
 */

export interface WebhookOptions {
  /** HMAC-SHA256 key of the X-Foliograph-Signature header; unset: no signature header. */
  secret?: string;
  maxAttempts: number;
  /** Base of the exponential backoff: attempt n waits base × 2^(n−1), jittered to [½, 1] of that. */
  backoffMs: number;
  /** Per attempt: connect, send and response headers. */
  timeoutMs: number;
  /** The worker also looks for due deliveries this often (retries of other processes, leases). */
  pollMs: number;
  /** Allows loopback, private, link-local and other non-public addresses (tests, internal receivers). */
  allowPrivate: boolean;
  /** Deliveries claimed per round, sent concurrently. */
  batchSize?: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = { maxAttempts: 5, backoffMs: 1000, timeoutMs: 10_000, pollMs: 1000, allowPrivate: false };

const MAX_URL_LENGTH = 2000;
const MAX_BACKOFF_MS = 6 * 3600_000;
const MAX_ERROR_LENGTH = 500;

// ------------------------------------------------------------------ addresses

const blocked = new net.BlockList();
for (const [net4, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net4, prefix, 'ipv4');
for (const [net6, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net6, prefix, 'ipv6');

/** Loopback, private, link-local, CGNAT, documentation, multicast, reserved: not the public internet. */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '');
  const family = net.isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(bare, 'ipv6');
}

function isPrivateHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || isPrivateAddress(h);
}

/**
 * A rule's webhookUrl: http or https, a host, no user or password in it (secrets belong in
 * WEBHOOK_SECRET, and URLs are listed to every reader of the rule), at most 2,000 characters.
 * Unless private addresses are allowed, `localhost` and literal non-public IPs are refused here,
 * and names that resolve to one are refused at delivery time.
 */
export function validateWebhookUrl(raw: string, opts: { allowPrivate: boolean }): string {
  if (raw.length > MAX_URL_LENGTH) throw badInput(`webhookUrl must be at most ${MAX_URL_LENGTH} characters`);
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw badInput('webhookUrl must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badInput('webhookUrl must be an http(s) URL');
  if (!u.hostname) throw badInput('webhookUrl needs a host');
  if (u.username || u.password) throw badInput('webhookUrl must not contain credentials');
  if (!opts.allowPrivate && isPrivateHost(u.hostname)) throw badInput('webhookUrl must be a public address (private and loopback addresses need WEBHOOK_ALLOW_PRIVATE=1)');
  return u.toString();
}

// ------------------------------------------------------------------ payload and signature

export interface WebhookPayload {
  eventId: string;
  ruleId: string;
  portfolioId: string;
  type: string;
  /** The value compared with the threshold, as an exact decimal string. */
  value: string;
  message: string;
  triggeredAt: string;
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, the timestamp being X-Foliograph-Timestamp. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** base × 2^(attempt−1), capped, then jittered into [½, 1] of that. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

// ------------------------------------------------------------------ persistence

const ABANDONED = 'no outcome of the last attempt (worker stopped)';

interface ClaimRow {
  id: string;
  url: string;
  attempts: number;
  event_id: string;
  rule_id: string;
  portfolio_id: string;
  type: string;
  value: string;
  message: string;
  triggered_at: Date;
}

/** The columns of a ClaimRow, from a delivery `c` (id, url, attempts) and its event `e`. */
const CLAIM_COLUMNS = Prisma.sql`c.id::text AS id, c.url, c.attempts, e.id::text AS event_id, e.rule_id::text AS rule_id, e.portfolio_id::text AS portfolio_id,
  e.type::text AS type, e.value::text AS value, e.message, e.triggered_at`;

function claimOf(r: ClaimRow): ClaimedDelivery {
  return {
    id: r.id,
    url: r.url,
    attempt: Number(r.attempts),
    payload: {
      eventId: r.event_id,
      ruleId: r.rule_id,
      portfolioId: r.portfolio_id,
      type: r.type,
      value: new D(r.value).toFixed(),
      message: r.message,
      triggeredAt: new Date(r.triggered_at).toISOString(),
    },
  };
}

/** The failed attempt `c.attempt`; `retryInMs` null when it was the last. */
async function insertRetry(tx: Tx, c: ClaimedDelivery, error: string, httpStatus: number | null, retryInMs: number | null): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO alert_retries (delivery_id, attempt, error, http_status, next_attempt_at)
    VALUES (${c.id}::uuid, ${c.attempt}, ${error}, ${httpStatus}::int,
            CASE WHEN ${retryInMs}::int IS NULL THEN NULL ELSE now() + ${retryInMs}::int * interval '1 millisecond' END)
    ON CONFLICT DO NOTHING`;
}

/** A delivery just set DEAD after attempt `c.attempt`: its last retry row, its dead letter (the payload the attempts sent) and the audit entry. */
async function bury(tx: Tx, c: ClaimedDelivery, error: string, httpStatus: number | null): Promise<void> {
  await insertRetry(tx, c, error, httpStatus, null);
  await tx.$executeRaw`
    INSERT INTO alert_dlq (delivery_id, event_id, url, payload, attempts, last_error)
    VALUES (${c.id}::uuid, ${c.payload.eventId}::uuid, ${c.url}, ${JSON.stringify(c.payload)}::jsonb, ${c.attempt}, ${error})`;
  await writeAudit(tx, SYSTEM, { action: 'webhook.dead', entityType: 'AlertDelivery', entityId: c.id, portfolioId: c.payload.portfolioId, after: { eventId: c.payload.eventId, attempts: c.attempt, lastError: error } });
}

export interface ClaimedDelivery {
  id: string;
  url: string;
  /** The attempt this claim is (1 for the first). */
  attempt: number;
  payload: WebhookPayload;
}

/** A failure's `status` is the receiver's HTTP status when it answered (a non-2xx). */
export type AttemptOutcome = { ok: true; status: number } | { ok: false; error: string; status?: number };

export type DeliveryRow = Pick<AlertDelivery, 'id' | 'eventId' | 'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'deliveredAt' | 'createdAt'>;

const SYSTEM: ServiceContext = { actor: null, meta: { requestId: 'webhooks' } };

/** The rows behind the worker; also the AlertEvent.deliveries field. */
export class WebhookService {
  readonly options: WebhookOptions;

  constructor(
    private readonly db: Db,
    options: Partial<WebhookOptions> = {},
  ) {
    this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
  }

  /** Inside the firing's transaction: the delivery exists iff the event does. */
  static async enqueue(tx: Tx, eventId: string, ruleId: string): Promise<void> {
    await tx.$executeRaw`
      INSERT INTO alert_deliveries (id, event_id, url, status, attempts, next_attempt_at)
      SELECT ${randomUUID()}::uuid, ${eventId}::uuid, webhook_url, 'PENDING'::"DeliveryStatus", 0, now()
      FROM alert_rules WHERE id = ${ruleId}::uuid AND webhook_url IS NOT NULL`;
  }

  /**
   * Claims up to `limit` due deliveries in one statement. The lock clause makes concurrent
   * claims on PostgreSQL skip each other's rows instead of waiting and claiming them again;
   * on PGlite (one connection) statements never overlap and it changes nothing.
   */
  async claimDue(limit: number): Promise<ClaimedDelivery[]> {
    const leaseMs = this.options.timeoutMs + 5000;
    const rows = await this.db.$queryRaw<ClaimRow[]>`
      WITH due AS (
        SELECT id FROM alert_deliveries
        WHERE status IN ('PENDING', 'FAILED') AND next_attempt_at <= now() AND attempts < ${this.options.maxAttempts}
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE alert_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
        FROM due WHERE d.id = due.id
        RETURNING d.id, d.url, d.attempts, d.event_id
      )
      SELECT ${CLAIM_COLUMNS} FROM claimed c JOIN alert_events e ON e.id = c.event_id`;
    return rows.map(claimOf);
  }

  /**
   * Records one attempt's outcome, only if the row is still at the attempt this worker claimed
   * (a worker whose lease ran out cannot overwrite a later attempt). Returns the delay before
   * the next attempt, or null when the delivery is settled.
   */
  async record(c: ClaimedDelivery, outcome: AttemptOutcome): Promise<number | null> {
    return inTransaction(this.db, SYSTEM, async (tx) => {
      if (outcome.ok) {
        const n = await tx.$executeRaw`
          UPDATE alert_deliveries SET status = 'DELIVERED', delivered_at = now(), next_attempt_at = NULL
          WHERE id = ${c.id}::uuid AND attempts = ${c.attempt} AND status IN ('PENDING', 'FAILED')`;
        if (n) await writeAudit(tx, SYSTEM, { action: 'webhook.delivered', entityType: 'AlertDelivery', entityId: c.id, portfolioId: c.payload.portfolioId, after: { eventId: c.payload.eventId, attempts: c.attempt, status: outcome.status } });
        return null;
      }
      const error = outcome.error.slice(0, MAX_ERROR_LENGTH);
      if (c.attempt >= this.options.maxAttempts) {
        const n = await tx.$executeRaw`
          UPDATE alert_deliveries SET status = 'DEAD', last_error = ${error}, next_attempt_at = NULL
          WHERE id = ${c.id}::uuid AND attempts = ${c.attempt} AND status IN ('PENDING', 'FAILED')`;
        if (n) await bury(tx, c, error, outcome.status ?? null);
        return null;
      }
      const delay = backoffDelay(c.attempt, this.options.backoffMs);
      const n = await tx.$executeRaw`
        UPDATE alert_deliveries SET status = 'FAILED', last_error = ${error}, next_attempt_at = now() + ${delay} * interval '1 millisecond'
        WHERE id = ${c.id}::uuid AND attempts = ${c.attempt} AND status IN ('PENDING', 'FAILED')`;
      if (n) await insertRetry(tx, c, error, outcome.status ?? null, delay);
      return delay;
    });
  }

  /**
   * Claims of the last attempt whose worker never reported back (crashed, killed): dead once
   * their lease is over, with their dead letter, in one transaction. Rows another worker holds
   * are skipped (it is burying or recording them).
   */
  async buryAbandoned(): Promise<number> {
    // Run every round and nearly always empty: one statement, no transaction, for that.
    const [any] = await this.db.$queryRaw<unknown[]>`
      SELECT 1 FROM alert_deliveries WHERE status IN ('PENDING', 'FAILED') AND attempts >= ${this.options.maxAttempts} AND next_attempt_at <= now() LIMIT 1`;
    if (!any) return 0;
    return inTransaction(this.db, SYSTEM, async (tx) => {
      const rows = await tx.$queryRaw<ClaimRow[]>`
        WITH abandoned AS (
          SELECT id FROM alert_deliveries
          WHERE status IN ('PENDING', 'FAILED') AND attempts >= ${this.options.maxAttempts} AND next_attempt_at <= now()
          FOR UPDATE SKIP LOCKED
        ), buried AS (
          UPDATE alert_deliveries d SET status = 'DEAD', next_attempt_at = NULL,
            last_error = coalesce(d.last_error || '; ', '') || ${ABANDONED}
          FROM abandoned WHERE d.id = abandoned.id
          RETURNING d.id, d.url, d.attempts, d.event_id
        )
        SELECT ${CLAIM_COLUMNS} FROM buried c JOIN alert_events e ON e.id = c.event_id`;
      for (const r of rows) await bury(tx, claimOf(r), ABANDONED, null);
      return rows.length;
    });
  }

  deliveriesOf(eventIds: readonly string[]): Promise<DeliveryRow[][]> {
    return deliveriesOf(this.db, eventIds);
  }
}

/** Deliveries of these events, oldest first, grouped per event (AlertEvent.deliveries, batched per request). */
export async function deliveriesOf(db: Db, eventIds: readonly string[]): Promise<DeliveryRow[][]> {
  const rows = await db.alertDelivery.findMany({
    where: { eventId: { in: [...eventIds] } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, eventId: true, status: true, attempts: true, nextAttemptAt: true, lastError: true, deliveredAt: true, createdAt: true },
  });
  const by = new Map<string, DeliveryRow[]>();
  for (const r of rows) {
    let list = by.get(r.eventId);
    if (!list) by.set(r.eventId, (list = []));
    list.push(r);
  }
  return eventIds.map((id) => by.get(id) ?? []);
}

// ------------------------------------------------------------------ HTTP

const USER_AGENT = 'Foliograph-Webhooks/1';

/** One POST; never throws. Redirects are not followed (a 3xx is a failure). */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const done = (o: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return done({ ok: false, error: 'invalid URL' });
    }
    timer = setTimeout(() => {
      req?.destroy();
      done({ ok: false, error: `timed out after ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
    if (!opts.allowPrivate && isPrivateHost(u.hostname)) return done({ ok: false, error: `refused: ${u.hostname} is not a public address` });
    // A name that resolves to a private address is refused at connect time, on the address actually used.
    const lookup = (hostname: string, options: dns.LookupOptions, cb: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void) =>
      dns.lookup(hostname, { ...options, all: true }, (err, list) => {
        if (err) return cb(err, []);
        const bad = list.find((a) => isPrivateAddress(a.address));
        if (bad) return cb(new Error(`refused: ${hostname} resolves to the non-public ${bad.address}`), []);
        if (options.all) return cb(null, list);
        cb(null, list[0]!.address, list[0]!.family);
      });
    const mod = u.protocol === 'https:' ? https : http;
    req = mod.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': USER_AGENT, ...headers },
        ...(opts.allowPrivate ? {} : { lookup: lookup as unknown as net.LookupFunction }),
        agent: false,
        signal: opts.signal,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) done({ ok: true, status });
        else done({ ok: false, error: `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, status });
      },
    );
    req.on('error', (err) => done({ ok: false, error: err.name === 'AbortError' ? 'aborted: server stopping' : err.message || String(err) }));
    req.end(body);
  });
}

// ------------------------------------------------------------------ worker

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Sends due deliveries. Woken by `alert.triggered` (on every process, through the bus), by a
 * timer at the retry time it just scheduled, and every pollMs in any case.
 */
export class WebhookWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private poll: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly service: WebhookService,
    private readonly bus: EventBus | null,
    private readonly log: Logger,
  ) {}

  start(): this {
    if (!this.service.options.secret) this.log.warn({}, 'webhooks: WEBHOOK_SECRET is not set, deliveries are sent without a signature');
    this.unsubscribe = this.bus?.subscribe('alert.triggered', () => this.kick()) ?? null;
    this.poll = setInterval(() => this.kick(), this.service.options.pollMs);
    this.poll.unref();
    this.kick();
    return this;
  }

  /** Stops polling, aborts attempts in flight (recorded as failed) and waits for the round to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.poll) clearInterval(this.poll);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.abort.abort();
    await this.running;
  }

  /** Runs a round now (or right after the one in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Deliveries of every owner's alerts: the worker runs in the system context.
    this.running = asSystem(() => this.loop())
      .catch((err: unknown) => this.log.error({ err }, 'webhooks: delivery round failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves when no round is in progress (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    const batch = this.service.options.batchSize ?? 10;
    do {
      this.again = false;
      await this.service.buryAbandoned();
      for (;;) {
        if (this.stopped) return;
        const claimed = await this.service.claimDue(batch);
        if (!claimed.length) break;
        await Promise.all(claimed.map((c) => this.attempt(c)));
        if (claimed.length < batch) break;
      }
    } while (this.again && !this.stopped);
  }

  private async attempt(c: ClaimedDelivery): Promise<void> {
    const { secret, timeoutMs, allowPrivate } = this.service.options;
    const body = JSON.stringify(c.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'idempotency-key': c.payload.eventId,
      'x-foliograph-event': 'alert.triggered',
      'x-foliograph-delivery': c.id,
      'x-foliograph-attempt': String(c.attempt),
      'x-foliograph-timestamp': timestamp,
    };
    if (secret) headers['x-foliograph-signature'] = signWebhook(secret, timestamp, body);
    const outcome = await postWebhook(c.url, body, headers, { timeoutMs, allowPrivate, signal: this.abort.signal });
    let retryIn: number | null;
    try {
      retryIn = await this.service.record(c, outcome);
    } catch (err) {
      // The lease runs out and the attempt is made again: at least once, never lost.
      this.log.error({ err, deliveryId: c.id }, 'webhooks: recording an attempt failed');
      return;
    }
    if (!outcome.ok) {
      const settled = retryIn === null;
      this.log.warn({ deliveryId: c.id, eventId: c.payload.eventId, attempt: c.attempt, error: outcome.error, retryInMs: retryIn, dead: settled }, settled ? 'webhooks: delivery dead after the last attempt' : 'webhooks: attempt failed');
    }
    if (retryIn !== null && !this.stopped) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.kick();
      }, retryIn + 5);
      t.unref();
      this.timers.add(t);
    }
  }
}
