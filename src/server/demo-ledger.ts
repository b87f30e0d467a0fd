import type { ServiceContext, Services } from '../services';
import { D } from '../domain/decimal';
import type { CostBasisMethod } from '../domain/lots';
import type { TransactionType } from '../domain/ledger';
import type { DemoBar } from '../db/demo-data';

/**
 * The demo's trading history, booked through the ledger and trading services like a
 * client's: three portfolios over the price history (FIFO, HIFO and AVERAGE),
 * deposits, buys in tranches, partial sells, quarterly
 * dividends, monthly interest, a yearly custody fee, a withdrawal, a 2-for-1 split of AAPL
 * (its bars from the split date on re-ingested at half price, as a data vendor would adjust
 * them), a buy of AAPL on the split day itself, and a few open orders away from the market.
 *
 * The ledger puts a day's trades before that day's split (the split restates them), so a trade
 * on the split day is in pre-split shares at the pre-split price: the day's close as traded,
 * before the adjustment. Only trades after the split day are at half price.
 */
export async function seedDemoLedger(services: Services, ctx: ServiceContext, days: string[], bars: DemoBar[]): Promise<{ transactions: number; orders: number }> {
  const close = new Map(bars.map((b) => [`${b.symbol}|${b.date}`, new D(b.close)]));
  const last = days.length - 1;
  const day = (fraction: number) => days[Math.min(last, Math.max(0, Math.round(fraction * last)))]!;
  const splitDay = day(0.6);
  const splitFactor = (symbol: string, date: string) => (symbol === 'AAPL' && date > splitDay ? 2 : 1);
  const priceOn = (symbol: string, date: string) => {
    const p = close.get(`${symbol}|${date}`);
    if (!p) throw new Error(`demo: no ${symbol} bar on ${date}`);
    return p.div(splitFactor(symbol, date)).toDecimalPlaces(4);
  };
  let transactions = 0;
  const book = async (portfolioId: string, type: TransactionType, date: string, fields: { symbol?: string; quantity?: number; amount?: string; currency?: string; splitRatio?: string; fee?: string }) => {
    const price = type === 'BUY' || type === 'SELL' ? priceOn(fields.symbol!, date) : null;
    await services.ledger.record(ctx, {
      portfolioId,
      type,
      date,
      symbol: fields.symbol ?? null,
      quantity: fields.quantity != null ? new D(fields.quantity) : null,
      price,
      fee: fields.fee ? new D(fields.fee) : type === 'BUY' || type === 'SELL' ? new D('4.95') : null,
      amount: fields.amount ? new D(fields.amount) : null,
      currency: fields.currency ?? null,
      splitRatio: fields.splitRatio ? new D(fields.splitRatio) : null,
      externalId: `demo-${transactions}`,
    });
    transactions++;
  };
  /** Whole shares worth about `value` in the security's currency. */
  const sharesFor = (symbol: string, date: string, value: number) => Math.max(1, Math.floor(value / priceOn(symbol, date).toNumber()));

  // The split: AAPL's bars from the split date on are re-ingested at half price.
  const adjusted = bars
    .filter((b) => b.symbol === 'AAPL' && b.date >= splitDay)
    .map((b) => ({ symbol: b.symbol, date: b.date, open: new D(b.open).div(2), high: new D(b.high).div(2), low: new D(b.low).div(2), close: new D(b.close).div(2), volume: new D(b.volume).times(2) }));
  await services.marketData.ingestPrices(ctx, adjusted);

  const portfolio = async (name: string, baseCurrency: string, costBasisMethod: CostBasisMethod) =>
    (await services.portfolios.list(ctx, { first: 500 })).items.find((i) => i.node.name === name)?.node.id ??
    (await services.portfolios.create(ctx, { name, baseCurrency, costBasisMethod })).id;

  // Global Growth (USD, FIFO): growth names bought in tranches, trimmed later, AAPL split.
  const growth = await portfolio('Global Growth', 'USD', 'FIFO');
  await book(growth, 'DEPOSIT', day(0), { amount: '250000', currency: 'USD' });
  for (const [symbol, value] of [['AAPL', 30000], ['MSFT', 30000], ['JPM', 20000], ['JNJ', 15000], ['AGG', 25000], ['XOM', 15000]] as const) {
    await book(growth, 'BUY', day(0.01), { symbol, quantity: sharesFor(symbol, day(0.01), value) });
  }
  for (const f of [0.15, 0.3, 0.45, 0.75]) {
    for (const symbol of ['AAPL', 'MSFT']) await book(growth, 'BUY', day(f), { symbol, quantity: sharesFor(symbol, day(f), 8000) });
  }
  // Bought on the split day, before the split: pre-split shares at the pre-split price, doubled by the split.
  await book(growth, 'BUY', splitDay, { symbol: 'AAPL', quantity: sharesFor('AAPL', splitDay, 8000) });
  await book(growth, 'SPLIT', splitDay, { symbol: 'AAPL', splitRatio: '2' });
  await book(growth, 'SELL', day(0.5), { symbol: 'MSFT', quantity: sharesFor('MSFT', day(0.5), 20000) });
  await book(growth, 'SELL', day(0.7), { symbol: 'XOM', quantity: sharesFor('XOM', day(0.01), 7000) });
  await book(growth, 'SELL', day(0.85), { symbol: 'AAPL', quantity: sharesFor('AAPL', day(0.85), 15000) });
  for (let q = 1; q <= 7; q++) {
    const d = day(q / 8);
    await book(growth, 'DIVIDEND', d, { symbol: 'JPM', amount: (sharesFor('JPM', day(0.01), 20000) * 1.05).toFixed(2) });
    await book(growth, 'DIVIDEND', d, { symbol: 'JNJ', amount: (sharesFor('JNJ', day(0.01), 15000) * 1.19).toFixed(2) });
  }
  for (let m = 1; m < 24; m++) await book(growth, 'INTEREST', day(m / 24), { amount: '41.50', currency: 'USD' });
  await book(growth, 'FEE', day(0.5), { amount: '250', currency: 'USD' });

  // Euro Income (EUR, HIFO): European dividend payers, some GBP, a withdrawal.
  const income = await portfolio('Euro Income', 'EUR', 'HIFO');
  await book(income, 'DEPOSIT', day(0), { amount: '150000', currency: 'EUR' });
  await book(income, 'DEPOSIT', day(0), { amount: '20000', currency: 'GBP' });
  for (const f of [0.02, 0.25, 0.5]) {
    for (const symbol of ['SAP.DE', 'SIE.DE', 'TTE.PA', 'ASML.AS']) await book(income, 'BUY', day(f), { symbol, quantity: sharesFor(symbol, day(f), 9000) });
  }
  await book(income, 'BUY', day(0.05), { symbol: 'AZN.L', quantity: sharesFor('AZN.L', day(0.05), 9000) });
  await book(income, 'BUY', day(0.05), { symbol: 'ULVR.L', quantity: sharesFor('ULVR.L', day(0.05), 8000) });
  await book(income, 'SELL', day(0.65), { symbol: 'ASML.AS', quantity: sharesFor('ASML.AS', day(0.65), 12000) });
  await book(income, 'SELL', day(0.8), { symbol: 'TTE.PA', quantity: sharesFor('TTE.PA', day(0.8), 6000) });
  for (let h = 1; h <= 3; h++) {
    await book(income, 'DIVIDEND', day(h / 4), { symbol: 'TTE.PA', amount: '310.40' });
    await book(income, 'DIVIDEND', day(h / 4 + 0.02), { symbol: 'SIE.DE', amount: '285.00' });
    await book(income, 'DIVIDEND', day(h / 4 + 0.03), { symbol: 'AZN.L', amount: '96.20' });
  }
  await book(income, 'WITHDRAWAL', day(0.9), { amount: '5000', currency: 'EUR' });
  await book(income, 'FEE', day(0.5), { amount: '180', currency: 'EUR' });

  // US Dividends (USD, AVERAGE): a pooled-cost position built and partly sold.
  const dividends = await portfolio('US Dividends', 'USD', 'AVERAGE');
  await book(dividends, 'DEPOSIT', day(0.1), { amount: '60000', currency: 'USD' });
  for (const f of [0.1, 0.3, 0.55]) {
    for (const symbol of ['PG', 'JNJ', 'XOM']) await book(dividends, 'BUY', day(f), { symbol, quantity: sharesFor(symbol, day(f), 5000) });
  }
  await book(dividends, 'SELL', day(0.8), { symbol: 'PG', quantity: sharesFor('PG', day(0.1), 6000) });
  for (let q = 1; q <= 5; q++) await book(dividends, 'DIVIDEND', day(0.1 + q / 6.5), { symbol: 'PG', amount: '118.30' });

  // Open orders away from the market: they wait for the simulator (or a price feed) to cross.
  const lastDay = days[last]!;
  const away = (symbol: string, factor: number) => priceOn(symbol, lastDay).times(factor).toDecimalPlaces(2);
  const orders = [
    { portfolioId: growth, symbol: 'MSFT', side: 'BUY' as const, type: 'LIMIT' as const, quantity: new D(20), limitPrice: away('MSFT', 0.9), timeInForce: 'GTC' as const, clientOrderId: 'demo-1' },
    { portfolioId: growth, symbol: 'JPM', side: 'SELL' as const, type: 'STOP' as const, quantity: new D(10), stopPrice: away('JPM', 0.88), timeInForce: 'GTC' as const, clientOrderId: 'demo-2' },
    { portfolioId: income, symbol: 'SAP.DE', side: 'SELL' as const, type: 'LIMIT' as const, quantity: new D(15), limitPrice: away('SAP.DE', 1.15), timeInForce: 'GTC' as const, clientOrderId: 'demo-3' },
    { portfolioId: dividends, symbol: 'PG', side: 'BUY' as const, type: 'STOP_LIMIT' as const, quantity: new D(25), stopPrice: away('PG', 1.08), limitPrice: away('PG', 1.1), timeInForce: 'DAY' as const, clientOrderId: 'demo-4' },
  ];
  for (const o of orders) await services.trading.placeOrder(ctx, o);
  return { transactions, orders: orders.length };
}
