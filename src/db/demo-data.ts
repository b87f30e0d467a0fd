/*
 * The demo dataset: real tickers with simulated prices, so that `npm start` shows a
 * working platform offline. Deterministic: the same seed gives the same paths, ending on
 * the day the dataset is loaded.
 */

export const DEMO_USER = { email: 'demo@foliograph.local', name: 'Demo Manager', role: 'MANAGER' as const };
/** Printed at start; only ever loaded into a database that the demo itself seeded. */
export const DEMO_API_KEY = 'fg_demo_local_key_not_for_production';

export interface DemoSecurity {
  symbol: string;
  name: string;
  currency: string;
  sector: string;
  country: string;
  assetClass: string;
  exchange: string;
  securityType: string;
  startPrice: number;
  /** Annualized drift and volatility of the simulated path. */
  drift: number;
  vol: number;
}

const equity = (symbol: string, name: string, currency: string, sector: string, country: string, exchange: string, startPrice: number, drift: number, vol: number): DemoSecurity => ({
  symbol, name, currency, sector, country, exchange, startPrice, drift, vol, assetClass: 'Equity', securityType: 'Common Stock',
});

export const DEMO_SECURITIES: DemoSecurity[] = [
  equity('AAPL', 'Apple Inc.', 'USD', 'Information Technology', 'US', 'XNAS', 150, 0.12, 0.28),
  equity('MSFT', 'Microsoft Corp.', 'USD', 'Information Technology', 'US', 'XNAS', 310, 0.14, 0.26),
  equity('JPM', 'JPMorgan Chase & Co.', 'USD', 'Financials', 'US', 'XNYS', 140, 0.08, 0.24),
  equity('XOM', 'Exxon Mobil Corp.', 'USD', 'Energy', 'US', 'XNYS', 105, 0.05, 0.27),
  equity('JNJ', 'Johnson & Johnson', 'USD', 'Health Care', 'US', 'XNYS', 160, 0.04, 0.16),
  equity('PG', 'Procter & Gamble Co.', 'USD', 'Consumer Staples', 'US', 'XNYS', 150, 0.05, 0.15),
  { ...equity('AGG', 'iShares Core US Aggregate Bond ETF', 'USD', 'Fixed Income', 'US', 'ARCX', 98, 0.02, 0.06), assetClass: 'Fixed Income', securityType: 'ETF' },
  equity('SAP.DE', 'SAP SE', 'EUR', 'Information Technology', 'DE', 'XETR', 120, 0.15, 0.25),
  equity('SIE.DE', 'Siemens AG', 'EUR', 'Industrials', 'DE', 'XETR', 140, 0.07, 0.24),
  equity('ASML.AS', 'ASML Holding N.V.', 'EUR', 'Information Technology', 'NL', 'XAMS', 600, 0.13, 0.33),
  equity('TTE.PA', 'TotalEnergies SE', 'EUR', 'Energy', 'FR', 'XPAR', 55, 0.05, 0.22),
  equity('HSBA.L', 'HSBC Holdings plc', 'GBP', 'Financials', 'GB', 'XLON', 6, 0.07, 0.23),
  equity('AZN.L', 'AstraZeneca plc', 'GBP', 'Health Care', 'GB', 'XLON', 110, 0.08, 0.2),
  equity('ULVR.L', 'Unilever plc', 'GBP', 'Consumer Staples', 'GB', 'XLON', 42, 0.04, 0.16),
  equity('RY.TO', 'Royal Bank of Canada', 'CAD', 'Financials', 'CA', 'XTSE', 125, 0.07, 0.19),
  equity('SHOP.TO', 'Shopify Inc.', 'CAD', 'Information Technology', 'CA', 'XTSE', 80, 0.15, 0.5),
  equity('ENB.TO', 'Enbridge Inc.', 'CAD', 'Energy', 'CA', 'XTSE', 50, 0.04, 0.17),
  equity('7203.T', 'Toyota Motor Corp.', 'JPY', 'Consumer Discretionary', 'JP', 'XTKS', 2000, 0.09, 0.26),
  equity('6758.T', 'Sony Group Corp.', 'JPY', 'Consumer Discretionary', 'JP', 'XTKS', 12500, 0.1, 0.28),
];

/** Currencies against USD: one USD buys `start` units of the quote currency. */
export const DEMO_FX: { quote: string; start: number; vol: number }[] = [
  { quote: 'EUR', start: 0.92, vol: 0.07 },
  { quote: 'GBP', start: 0.79, vol: 0.08 },
  { quote: 'CAD', start: 1.36, vol: 0.06 },
  { quote: 'JPY', start: 149.5, vol: 0.1 },
];

/** mulberry32: a small, well-distributed, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box-Muller: a standard normal draw from two uniforms. */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Monday to Friday from `from` to `to` inclusive, as YYYY-MM-DD. */
export function businessDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d = new Date(d.getTime() + 86_400_000)) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

export interface DemoBar {
  symbol: string;
  date: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

/** Geometric Brownian motion, one step a business day; prices rounded to 4 places, consistent OHLC. */
export function demoPriceBars(days: string[], seed = 20240101): DemoBar[] {
  const bars: DemoBar[] = [];
  DEMO_SECURITIES.forEach((s, i) => {
    const rand = prng(seed + i * 7919);
    let close = s.startPrice;
    const dt = 1 / 252;
    for (const date of days) {
      const open = close * (1 + normal(rand) * s.vol * Math.sqrt(dt) * 0.3);
      close = close * Math.exp((s.drift - (s.vol * s.vol) / 2) * dt + s.vol * Math.sqrt(dt) * normal(rand));
      const high = Math.max(open, close) * (1 + rand() * 0.01);
      const low = Math.min(open, close) * (1 - rand() * 0.01);
      const round = (v: number) => v.toFixed(4);
      const [o, h, l, c] = [round(open), round(high), round(low), round(close)];
      // Rounding can push open/close past high/low by a ten-thousandth; keep the bar consistent.
      bars.push({ symbol: s.symbol, date, open: o, close: c, high: maxOf(h, o, c), low: minOf(l, o, c), volume: String(Math.round(1e5 + rand() * 5e6)) });
    }
  });
  return bars;
}

const maxOf = (...v: string[]) => v.reduce((a, b) => (Number(b) > Number(a) ? b : a));
const minOf = (...v: string[]) => v.reduce((a, b) => (Number(b) < Number(a) ? b : a));

export function demoFxRates(days: string[], seed = 4217): { base: string; quote: string; date: string; rate: string }[] {
  const rows: { base: string; quote: string; date: string; rate: string }[] = [];
  DEMO_FX.forEach((fx, i) => {
    const rand = prng(seed + i * 104729);
    let rate = fx.start;
    for (const date of days) {
      rate = rate * Math.exp(fx.vol * Math.sqrt(1 / 252) * normal(rand));
      rows.push({ base: 'USD', quote: fx.quote, date, rate: rate.toFixed(6) });
    }
  });
  return rows;
}
