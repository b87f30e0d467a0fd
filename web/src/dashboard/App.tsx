import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Client } from 'graphql-ws';
import { loadKey, saveKey } from '../shared/key';
import { ApiError, request, socket, subscribe } from './client';
import {
  AcknowledgeAlertMutation,
  AlertEventsQuery,
  AlertTriggeredSubscription,
  MeQuery,
  NavHistoryQuery,
  NavQuery,
  NavUpdatedSubscription,
  OrderUpdatedSubscription,
  OverviewQuery,
  PortfolioListQuery,
} from './operations';
import type { AlertItemFragment, DashboardOverviewQuery, DashboardPortfoliosQuery } from '../gql/graphql';
import { isoDate, money, num, pct, signedMoney, tone } from './format';
import { Bars, NavChart } from './Chart';

const POLL_MS = 3000;

type Portfolio = DashboardPortfoliosQuery['portfolios']['nodes'][number];
type Overview = NonNullable<DashboardOverviewQuery['portfolio']>;

export function App() {
  const [key, setKey] = useState(loadKey);
  const [me, setMe] = useState<{ email: string; role: string } | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    if (!key) return;
    request(key, MeQuery)
      .then((data) => {
        if (!data.me) throw new ApiError('This key is not valid.', 'UNAUTHENTICATED', 401);
        setMe(data.me);
      })
      .catch((err: ApiError) => {
        setError(err.status === 401 || err.code === 'UNAUTHENTICATED' ? 'This key is not valid.' : err.message);
        setMe(null);
        setKey('');
        saveKey('');
      });
  }, [key]);

  if (!key || !me) {
    return <SignIn error={error} pending={!!key && !me && !error} onSubmit={(k) => { setError(''); saveKey(k); setKey(k); }} />;
  }
  return (
    <Signedin
      apiKey={key}
      email={me.email}
      onSignOut={() => {
        saveKey('');
        setKey('');
        setMe(null);
      }}
    />
  );
}

function SignIn({ error, pending, onSubmit }: { error: string; pending: boolean; onSubmit(key: string): void }) {
  const [draft, setDraft] = useState('');
  return (
    <main className="signin">
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) onSubmit(draft.trim());
        }}
      >
        <h1>Foliograph</h1>
        <p className="muted">Sign in with an API key. <code>npm start</code> prints the demo key.</p>
        <input name="apiKey" type="password" autoComplete="off" placeholder="fg_…" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
        <button type="submit" disabled={pending}>{pending ? 'Checking…' : 'Sign in'}</button>
        {error && <p className="error" role="alert">{error}</p>}
        <p className="muted small">The key stays in this browser (localStorage) and is shared with the <a href="/graphql">GraphQL IDE</a>.</p>
      </form>
    </main>
  );
}

function Signedin({ apiKey, email, onSignOut }: { apiKey: string; email: string; onSignOut(): void }) {
  const [portfolios, setPortfolios] = useState<Portfolio[] | null>(null);
  const [selected, setSelected] = useState<string | null>(() => new URLSearchParams(location.search).get('portfolio'));
  const [error, setError] = useState('');
  const ws = useMemo(() => socket(apiKey), [apiKey]);
  useEffect(() => () => void ws.dispose(), [ws]);

  useEffect(() => {
    request(apiKey, PortfolioListQuery)
      .then((data) => {
        setPortfolios(data.portfolios.nodes);
        setSelected((s) => (s && data.portfolios.nodes.some((p) => p.id === s) ? s : (data.portfolios.nodes[0]?.id ?? null)));
      })
      .catch((err: Error) => setError(err.message));
  }, [apiKey]);

  return (
    <div className="layout">
      <header className="top">
        <strong>Foliograph</strong>
        <span className="muted">{email}</span>
        <a href="/graphql">GraphQL IDE</a>
        <button className="link" onClick={onSignOut}>Sign out</button>
      </header>
      <nav className="side" aria-label="Portfolios">
        <h2>Portfolios</h2>
        {error && <p className="error">{error}</p>}
        {portfolios?.length === 0 && <p className="muted">No portfolios yet.</p>}
        <ul>
          {portfolios?.map((p) => (
            <li key={p.id}>
              <button className={p.id === selected ? 'active' : ''} onClick={() => setSelected(p.id)}>
                {p.name} <span className="muted">{p.baseCurrency}</span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">{selected && <PortfolioView key={selected} apiKey={apiKey} id={selected} ws={ws} />}</main>
    </div>
  );
}

interface NavState {
  nav: string;
  change: string | null;
  changePct: string | null;
  asOf: string;
}

/** NAV from `navUpdated`; polls the valuation instead when the server has no such subscription. */
function useLiveNav(apiKey: string, id: string, ws: Client): { nav: NavState | null; mode: 'connecting' | 'live' | 'polling' } {
  const [nav, setNav] = useState<NavState | null>(null);
  const [mode, setMode] = useState<'connecting' | 'live' | 'polling'>('connecting');

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last: string | null = null;
    const poll = async () => {
      try {
        const data = await request(apiKey, NavQuery, { id });
        const v = data.portfolio?.valuation;
        if (v && !stopped && v.nav !== last) {
          const prev = last;
          last = v.nav;
          setNav({
            nav: v.nav,
            change: prev === null ? null : String(Number(v.nav) - Number(prev)),
            changePct: prev === null || Number(prev) === 0 ? null : String(Number(v.nav) / Number(prev) - 1),
            asOf: v.asOf,
          });
        }
      } catch {
        // Next tick tries again.
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    const unsubscribe = subscribe(
      ws,
      NavUpdatedSubscription,
      { id },
      ({ navUpdated: u }) => {
        setMode('live');
        setNav({ nav: u.nav, change: u.change, changePct: u.changePct, asOf: u.asOf });
      },
      () => {
        if (stopped || timer) return;
        setMode('polling');
        void poll();
      },
    );
    return () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
    };
  }, [apiKey, id, ws]);

  return { nav, mode };
}

function PortfolioView({ apiKey, id, ws }: { apiKey: string; id: string; ws: Client }) {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [history, setHistory] = useState<{ date: string; nav: string }[] | null>(null);
  const [error, setError] = useState('');
  const { nav, mode } = useLiveNav(apiKey, id, ws);

  const refresh = useCallback(() => {
    request(apiKey, OverviewQuery, { id })
      .then((data) => (data.portfolio ? setOverview(data.portfolio) : setError('Portfolio not found.')))
      .catch((err: Error) => setError(err.message));
  }, [apiKey, id]);

  useEffect(() => {
    refresh();
    const to = new Date();
    const from = new Date(to.getTime() - 365 * 86_400_000);
    request(apiKey, NavHistoryQuery, { id, from: isoDate(from), to: isoDate(to) })
      .then((data) => setHistory(data.portfolio?.navHistory ?? []))
      .catch(() => setHistory([]));
  }, [apiKey, id, refresh]);

  // Holdings, exposure and orders follow the NAV (at most every 2 s, the last change always
  // included) and orderUpdated events.
  const lastRefresh = useRef(0);
  useEffect(() => {
    if (!nav) return;
    const wait = Math.max(0, lastRefresh.current + 2000 - Date.now());
    const timer = setTimeout(() => {
      lastRefresh.current = Date.now();
      refresh();
    }, wait);
    return () => clearTimeout(timer);
  }, [nav, refresh]);
  useEffect(() => subscribe(ws, OrderUpdatedSubscription, { id }, () => refresh(), () => undefined), [ws, id, refresh]);

  if (error) return <p className="error">{error}</p>;
  if (!overview) return <p className="muted">Loading…</p>;
  const ccy = overview.baseCurrency;
  const v = overview.valuation;
  const orders = [...overview.partialOrders.nodes, ...overview.newOrders.nodes];
  return (
    <div className="portfolio">
      <section className="card nav-card">
        <div>
          <h1>{overview.name}</h1>
          <span className="muted">
            {ccy} · <span data-testid="nav-mode" className={mode === 'live' ? 'live' : ''}>{mode === 'live' ? '● live' : mode === 'polling' ? `polling every ${POLL_MS / 1000}s` : 'connecting…'}</span>
          </span>
        </div>
        <div className="nav">
          <span className="label">NAV</span>
          <span className="value" data-testid="nav-value">{money(nav?.nav ?? v.nav, ccy)}</span>
          <span className={`change ${tone(nav?.change)}`} data-testid="nav-change">
            {nav?.change != null ? `${signedMoney(nav.change, ccy)} (${pct(nav.changePct, true)})` : 'no change yet'}
          </span>
          <span className="muted small">as of {new Date(nav?.asOf ?? v.asOf).toLocaleTimeString()}</span>
        </div>
        <dl className="facts">
          <dt>Positions</dt>
          <dd>{money(v.positionsValue, ccy)}</dd>
          <dt>Cash</dt>
          <dd>{money(v.cashValue, ccy)}</dd>
          <dt>Pricing</dt>
          <dd>{!v.complete ? 'incomplete' : v.stale ? 'stale prices' : 'complete'}</dd>
        </dl>
      </section>

      <section className="card wide">
        <h2>NAV history (1 year)</h2>
        {history ? <NavChart points={history} currency={ccy} /> : <p className="muted">Loading…</p>}
      </section>

      <section className="card wide">
        <h2>Holdings</h2>
        <table className="grid" data-testid="holdings">
          <thead>
            <tr>
              <th>Symbol</th>
              <th>Name</th>
              <th className="num">Quantity</th>
              <th className="num">Price</th>
              <th className="num">Value ({ccy})</th>
              <th className="num">Weight</th>
              <th className="num">Unrealized P&amp;L ({ccy})</th>
            </tr>
          </thead>
          <tbody>
            {v.holdings.map((h) => (
              <tr key={h.symbol}>
                <td>
                  <strong>{h.symbol}</strong>
                  {h.pricingStatus !== 'OK' && <span className="badge">{h.pricingStatus.toLowerCase()}</span>}
                </td>
                <td className="muted">{h.name}</td>
                <td className="num">{num(h.quantity)}</td>
                <td className="num">{h.price ? money(h.price, h.currency) : '—'}</td>
                <td className="num">{money(h.marketValueBase, ccy)}</td>
                <td className="num">{pct(h.weight)}</td>
                <td className={`num ${tone(h.unrealizedPnlBase)}`}>{signedMoney(h.unrealizedPnlBase, ccy)}</td>
              </tr>
            ))}
            {!v.holdings.length && (
              <tr>
                <td colSpan={7} className="muted">No open positions.</td>
              </tr>
            )}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>Exposure by sector</h2>
        <Bars buckets={overview.exposure.bySector} currency={ccy} />
      </section>
      <section className="card">
        <h2>Exposure by currency</h2>
        <Bars buckets={overview.exposure.byCurrency} currency={ccy} />
      </section>

      <section className="card">
        <h2>Open orders</h2>
        {orders.length ? (
          <table className="grid" data-testid="orders">
            <thead>
              <tr>
                <th>Side</th>
                <th>Symbol</th>
                <th>Type</th>
                <th className="num">Qty</th>
                <th className="num">Limit / stop</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id}>
                  <td className={o.side === 'BUY' ? 'up' : 'down'}>{o.side}</td>
                  <td>{o.symbol}</td>
                  <td>{o.type}</td>
                  <td className="num">
                    {num(o.filledQty)}/{num(o.quantity)}
                  </td>
                  <td className="num">{o.limitPrice ?? o.stopPrice ?? '—'}</td>
                  <td>{o.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No open orders.</p>
        )}
      </section>

      <Alerts apiKey={apiKey} id={id} ws={ws} />
    </div>
  );
}

function Alerts({ apiKey, id, ws }: { apiKey: string; id: string; ws: Client }) {
  const [events, setEvents] = useState<AlertItemFragment[] | null>(null);
  const [unavailable, setUnavailable] = useState(false);

  useEffect(() => {
    request(apiKey, AlertEventsQuery, { id })
      .then((data) => setEvents([...(data.portfolio?.alertEvents.nodes ?? [])].reverse().slice(0, 50)))
      .catch((err: ApiError) => (err.unsupported ? setUnavailable(true) : setEvents([])));
    return subscribe(
      ws,
      AlertTriggeredSubscription,
      { id },
      ({ alertTriggered: e }) => setEvents((list) => [e, ...(list ?? []).filter((x) => x.id !== e.id)].slice(0, 50)),
      () => undefined,
    );
  }, [apiKey, id, ws]);

  const acknowledge = async (alertId: string) => {
    const data = await request(apiKey, AcknowledgeAlertMutation, { id: alertId });
    setEvents((list) => (list ?? []).map((e) => (e.id === alertId ? data.acknowledgeAlert : e)));
  };

  return (
    <section className="card" data-testid="alerts">
      <h2>Alerts</h2>
      {unavailable ? (
        <p className="muted">This server does not offer alerts yet.</p>
      ) : !events ? (
        <p className="muted">Loading…</p>
      ) : !events.length ? (
        <p className="muted">No alerts triggered.</p>
      ) : (
        <ul className="alerts">
          {events.map((e) => (
            <li key={e.id} className={e.acknowledgedAt ? 'acked' : ''}>
              <span className="badge">{e.type.replaceAll('_', ' ').toLowerCase()}</span> {e.message}
              <span className="muted small"> {new Date(e.triggeredAt).toLocaleString()}</span>
              {!e.acknowledgedAt && (
                <button className="small-btn" onClick={() => void acknowledge(e.id)}>
                  Acknowledge
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
