import { D, ZERO, dec } from './decimal';
import { assertIsoDate, holdingDays, isLongTerm } from './dates';
import { DomainError } from './errors';

export { holdingDays, isLongTerm } from './dates';

/**
 * The tax-lot engine: pure functions over plain lot objects.
 *
 * Sign convention
 * ---------------
 * - A long lot has qtyOpen > 0 and costBasis >= 0: what was paid for the OPEN
 *   quantity, buy fees included.
 * - A short lot has qtyOpen < 0 and costBasis <= 0: MINUS the proceeds received
 *   (net of fees) for the open short quantity. So costBasis always carries the
 *   sign of qtyOpen, costBasis / qtyOpen is always the positive per-unit price,
 *   and for longs and shorts alike `marketValue − costBasis` is the unrealized
 *   P&L (short 10 sold for 500 → costBasis −500; worth −400 at 40 → +100).
 * - A closed lot has qtyOpen = 0 and costBasis = 0; qtyOriginal is kept.
 *
 * Realized-gain rows always carry positive quantity, proceeds and cost, with
 * gain = proceeds − cost, for longs and shorts alike.
 *
 * Rounding
 * --------
 * Money parts are rounded to MONEY_DP (10) decimal places, the NUMERIC(30,10)
 * scale of the database, half-even. Totals are conserved exactly: pro-rata
 * parts of a total are rounded and the residual goes on the last part
 * (`allocateProRata`); a partially relieved lot keeps costBasis − relievedCost,
 * computed exactly, and a fully relieved lot gives up its whole costBasis.
 *
 * Dates
 * -----
 * A lot is eligible only on or after its acquiredOn: a sale (or cover) dated
 * before a lot was opened neither relieves it nor counts it as held.
 *
 * Inputs are never mutated; outputs are fresh objects built with the shared
 * `D` constructor (precision 40, half-even).
 */

export const MONEY_DP = 10;
export const QTY_DP = 10;

export type CostBasisMethod = 'FIFO' | 'LIFO' | 'HIFO' | 'AVERAGE';
export const COST_BASIS_METHODS: readonly CostBasisMethod[] = ['FIFO', 'LIFO', 'HIFO', 'AVERAGE'];

export interface Lot {
  id: string;
  /** Quantity when the lot was opened (after later splits); negative for a short lot. */
  qtyOriginal: D;
  /** Quantity still open; negative for a short lot, 0 when closed. */
  qtyOpen: D;
  /** Long: total cost of the open quantity, fees included (>= 0). Short: −(proceeds received) for the open quantity (<= 0). */
  costBasis: D;
  /** YYYY-MM-DD */
  acquiredOn: string;
}

/** New state of a lot that changed. closedOn is set (to the trade date) when qtyOpen reached 0. */
export interface LotUpdate {
  lotId: string;
  qtyOpen: D;
  costBasis: D;
  closedOn: string | null;
}

/** One realized gain per relieved lot. quantity, proceeds and cost are positive. */
export interface RealizedGainRow {
  lotId: string;
  quantity: D;
  proceeds: D;
  cost: D;
  /** proceeds − cost */
  gain: D;
  /** Long: the buy date. Short: the date the short was opened. */
  acquiredOn: string;
  /** Long: the sell date. Short: the date it was covered. */
  soldOn: string;
  holdingDays: number;
  /** Long: held more than one year. Short: always false (see coverShorts). */
  longTerm: boolean;
}

export interface SellInput {
  /** Quantity sold, > 0. */
  quantity: D;
  /** Total proceeds net of fee (quantity × price − fee), >= 0. */
  proceeds: D;
  soldOn: string;
  method: CostBasisMethod;
  allowShort: boolean;
}

export interface ShortOpened {
  /** Negative: the quantity sold beyond the long holding. */
  quantity: D;
  /** Positive: its pro-rata share of the sale proceeds. */
  proceeds: D;
  /** = −proceeds: the costBasis of the new short lot under the sign convention. */
  costBasis: D;
}

export interface SellResult {
  updates: LotUpdate[];
  gains: RealizedGainRow[];
  /** Present only when allowShort and the sale exceeded the long holding: open a short lot with it. */
  shortOpened?: ShortOpened;
}

export interface BuyInput {
  /** Quantity bought, > 0. */
  quantity: D;
  /** Total cost including fee (quantity × price + fee), >= 0. */
  cost: D;
  boughtOn: string;
  method: CostBasisMethod;
}

export interface LongOpened {
  /** Positive: the quantity left after covering shorts. */
  quantity: D;
  /** Its pro-rata share of the buy's cost: the costBasis of the new long lot. */
  cost: D;
}

export interface BuyResult {
  updates: LotUpdate[];
  gains: RealizedGainRow[];
  /** Present when quantity remains after covering every eligible short: open a long lot with it. */
  longOpened?: LongOpened;
}

// ---------------------------------------------------------------------------
// validation helpers

function bad(message: string): DomainError {
  return new DomainError('BAD_USER_INPUT', message);
}

function finite(value: D, field: string): D {
  const v = value == null ? undefined : dec(value);
  if (!v || !v.isFinite()) throw bad(`${field} must be a finite decimal`);
  return v;
}

function positive(value: D, field: string): D {
  const v = finite(value, field);
  if (!v.gt(0)) throw bad(`${field} must be greater than 0, got ${v.toString()}`);
  return v;
}

function nonNegative(value: D, field: string): D {
  const v = finite(value, field);
  if (v.isNeg() && !v.isZero()) throw bad(`${field} must not be negative, got ${v.toString()}`);
  return v.isZero() ? ZERO : v;
}

function method(m: CostBasisMethod): CostBasisMethod {
  if (!COST_BASIS_METHODS.includes(m)) throw bad(`method must be one of ${COST_BASIS_METHODS.join(', ')}, got ${String(m)}`);
  return m;
}

/** The value as a `D` (precision 40, half-even): already one is used as is (decimals are immutable), another Decimal clone's or a string is wrapped. */
function ours(value: D): D {
  return (value as { constructor?: unknown } | null)?.constructor === D ? value : dec(value);
}

/** value > 0 and value < 0 without a Decimal for the 0 (a SELL asks them of every lot). */
export function isAboveZero(value: D): boolean {
  return value.isPos() && !value.isZero();
}

export function isBelowZero(value: D): boolean {
  return value.isNeg() && !value.isZero();
}

/**
 * Stored lot data that breaks the sign convention is a bug, not user input: plain Error.
 * `checkedDates` holds acquisition dates already found valid: lots often share one.
 */
function normalizeLot(lot: Lot, checkedDates?: Set<string>): Lot {
  const qtyOpen = ours(lot.qtyOpen);
  const qtyOriginal = ours(lot.qtyOriginal);
  const costBasis = ours(lot.costBasis);
  if (!qtyOpen.isFinite() || !qtyOriginal.isFinite() || !costBasis.isFinite()) {
    throw new Error(`lot ${lot.id}: quantities and costBasis must be finite`);
  }
  if ((isAboveZero(qtyOpen) && isBelowZero(costBasis)) || (isBelowZero(qtyOpen) && isAboveZero(costBasis))) {
    throw new Error(`lot ${lot.id}: costBasis ${costBasis.toString()} has the wrong sign for qtyOpen ${qtyOpen.toString()}`);
  }
  if (!checkedDates?.has(lot.acquiredOn)) {
    assertIsoDate(lot.acquiredOn, `lot ${lot.id} acquiredOn`);
    checkedDates?.add(lot.acquiredOn);
  }
  return { id: lot.id, qtyOriginal, qtyOpen, costBasis, acquiredOn: lot.acquiredOn };
}

/** |value|: a value not below zero as it is (decimals are immutable), sparing a long lot's two copies. */
function magnitude(value: D): D {
  return value.isNeg() ? value.abs() : value;
}

/** Avoids "-0" leaking out of negations. */
function signed(magnitude: D, negative: boolean): D {
  if (magnitude.isZero()) return ZERO;
  return negative ? magnitude.neg() : magnitude;
}

// ---------------------------------------------------------------------------
// pro-rata allocation

/**
 * Splits `total` into parts proportional to `weights` (all > 0). Every part but
 * the last is rounded to `dp` places (half-even); the last part is the residual,
 * so the parts always sum to `total` exactly.
 *
 * When the total is dust (a few units of 10^-dp) rounding up the first parts
 * could leave a residual of the opposite sign; it is then taken back from the
 * preceding parts so that no part ever has the opposite sign of the total.
 */
export function allocateProRata(total: D, weights: readonly D[], dp: number = MONEY_DP): D[] {
  const t = dec(total);
  if (weights.length === 0) {
    if (!t.isZero()) throw new Error('allocateProRata: no weights to allocate a non-zero total to');
    return [];
  }
  const ws = weights.map(ours);
  if (!ws.every(isAboveZero)) throw new Error('allocateProRata: weights must be > 0');
  const negative = t.isNeg();
  const abs = t.abs();
  const weightSum = ws.reduce((a, w) => a.plus(w), ZERO);
  const parts: D[] = [];
  let allocated: D = ZERO;
  // A part depends on its weight's value alone, and lots often share a quantity: each distinct
  // weight is multiplied and divided once (the division is most of a large SELL's Decimal work).
  const partOf = new Map<string, D>();
  for (let i = 0; i < ws.length - 1; i++) {
    const w = ws[i]!;
    const key = w.toString();
    let part = partOf.get(key);
    if (part === undefined) {
      part = abs.times(w).div(weightSum).toDecimalPlaces(dp);
      partOf.set(key, part);
    }
    parts.push(part);
    allocated = allocated.plus(part);
  }
  let last = abs.minus(allocated);
  for (let i = parts.length - 1; last.isNeg() && !last.isZero() && i >= 0; i--) {
    const give = D.min(parts[i]!, last.neg());
    parts[i] = parts[i]!.minus(give);
    last = last.plus(give);
  }
  parts.push(last);
  return parts.map((p) => signed(p, negative));
}

// ---------------------------------------------------------------------------
// the relief core, on magnitudes (works the same for long and short lots)

interface Slice {
  lot: Lot;
  index: number;
  /** |qtyOpen| > 0 */
  qty: D;
  /** |costBasis| */
  basis: D;
}

interface Relief {
  slice: Slice;
  qty: D;
  basis: D;
}

interface Consumed {
  reliefs: Relief[];
  /** Quantity that no eligible lot could absorb. */
  unfilled: D;
  /** New magnitudes by slice index, for every slice. */
  after: Map<number, { qty: D; basis: D }>;
}

function fifoCompare(a: Slice, b: Slice): number {
  if (a.lot.acquiredOn !== b.lot.acquiredOn) return a.lot.acquiredOn < b.lot.acquiredOn ? -1 : 1;
  return a.index - b.index;
}

/**
 * FIFO / AVERAGE: oldest acquiredOn first; same day: the order the lots were given.
 * LIFO: newest acquiredOn first; same day: the lot given last first.
 * HIFO: highest per-unit basis (|costBasis| / |qtyOpen|) first; equal: FIFO order.
 *       For short lots the per-unit basis is the price the short was sold at.
 */
function ordered(slices: readonly Slice[], m: CostBasisMethod): Slice[] {
  const copy = [...slices];
  switch (m) {
    case 'FIFO':
    case 'AVERAGE':
      return copy.sort(fifoCompare);
    case 'LIFO':
      return copy.sort((a, b) => -fifoCompare(a, b));
    case 'HIFO':
      return byUnitBasisDescending(copy);
  }
}

/**
 * basis_a / qty_a against basis_b / qty_b without dividing, as exact integer cross-products:
 * every magnitude scaled to the slices' largest number of decimal places once, so the sort
 * itself does BigInt multiplications only (no Decimal work per comparison).
 */
function byUnitBasisDescending(slices: Slice[]): Slice[] {
  let dp = 0;
  for (const s of slices) dp = Math.max(dp, s.qty.decimalPlaces(), s.basis.decimalPlaces());
  const scaled = (d: D) => BigInt(d.toFixed(dp).replace('.', ''));
  const keyed = slices.map((s) => ({ s, qty: scaled(s.qty), basis: scaled(s.basis) }));
  keyed.sort((a, b) => {
    const x = b.basis * a.qty;
    const y = a.basis * b.qty;
    return x > y ? 1 : x < y ? -1 : fifoCompare(a.s, b.s);
  });
  return keyed.map((k) => k.s);
}

function consume(slices: readonly Slice[], quantity: D, m: CostBasisMethod): Consumed {
  const takes: { slice: Slice; qty: D }[] = [];
  let left = quantity;
  for (const s of ordered(slices, m)) {
    if (!isAboveZero(left)) break;
    const q = s.qty.lte(left) ? s.qty : left;
    takes.push({ slice: s, qty: q });
    left = left.minus(q);
  }

  const after = new Map<number, { qty: D; basis: D }>();
  for (const s of slices) after.set(s.index, { qty: s.qty, basis: s.basis });

  if (m !== 'AVERAGE') {
    const reliefs = takes.map(({ slice, qty }) => {
      // Taken whole: the very Decimal of the slice (see the loop above), or an equal one.
      const full = qty === slice.qty || qty.eq(slice.qty);
      const basis = full ? slice.basis : slice.basis.times(qty).div(slice.qty).toDecimalPlaces(MONEY_DP);
      after.set(slice.index, full ? { qty: ZERO, basis: ZERO } : { qty: slice.qty.minus(qty), basis: slice.basis.minus(basis) });
      return { slice, qty, basis };
    });
    return { reliefs, unfilled: left, after };
  }

  // AVERAGE: one pool across all eligible lots. The relieved cost is the pooled
  // average × quantity; afterwards every remaining lot is re-based to the pooled
  // average too, so per-unit cost stays uniform across the position.
  if (takes.length === 0) return { reliefs: [], unfilled: left, after };
  const poolQty = slices.reduce((a, s) => a.plus(s.qty), ZERO);
  const poolBasis = slices.reduce((a, s) => a.plus(s.basis), ZERO);
  const taken = quantity.minus(left);
  const relievedBasis = taken.eq(poolQty) ? poolBasis : poolBasis.times(taken).div(poolQty).toDecimalPlaces(MONEY_DP);
  const parts = allocateProRata(relievedBasis, takes.map((t) => t.qty));
  const reliefs = takes.map(({ slice, qty }, i) => {
    after.set(slice.index, { qty: slice.qty.minus(qty), basis: ZERO });
    return { slice, qty, basis: parts[i]! };
  });
  const remaining = ordered(slices, 'FIFO').filter((s) => after.get(s.index)!.qty.gt(0));
  const remParts = allocateProRata(
    poolBasis.minus(relievedBasis),
    remaining.map((s) => after.get(s.index)!.qty),
  );
  remaining.forEach((s, i) => {
    after.set(s.index, { qty: after.get(s.index)!.qty, basis: remParts[i]! });
  });
  return { reliefs, unfilled: left, after };
}

/** Updates for every lot whose qtyOpen or costBasis changed: relieved lots first (in relief order), then the rest in the order given. */
function collectUpdates(c: Consumed, slices: readonly Slice[], negative: boolean, tradeDate: string): LotUpdate[] {
  const seen = new Set<number>();
  const out: LotUpdate[] = [];
  const emit = (s: Slice) => {
    if (seen.has(s.index)) return;
    seen.add(s.index);
    const a = c.after.get(s.index)!;
    if (a.qty.eq(s.qty) && a.basis.eq(s.basis)) return;
    out.push({
      lotId: s.lot.id,
      qtyOpen: signed(a.qty, negative),
      costBasis: signed(a.basis, negative),
      closedOn: a.qty.isZero() ? tradeDate : null,
    });
  };
  for (const r of c.reliefs) emit(r.slice);
  for (const s of slices) emit(s);
  return out;
}

function toSlices(lots: readonly Lot[], side: 'long' | 'short', asOf: string): Slice[] {
  assertIsoDate(asOf);
  const checkedDates = new Set<string>();
  const out: Slice[] = [];
  lots.forEach((raw, index) => {
    const lot = normalizeLot(raw, checkedDates);
    const isSide = side === 'long' ? isAboveZero(lot.qtyOpen) : isBelowZero(lot.qtyOpen);
    // Valid YYYY-MM-DD dates (both checked) order as their text does.
    if (isSide && lot.acquiredOn <= asOf) {
      out.push({ lot, index, qty: magnitude(lot.qtyOpen), basis: magnitude(lot.costBasis) });
    }
  });
  return out;
}

/** holdingDays and isLongTerm up to `soldOn`, worked out once per acquisition date: lots often share one. */
function holdingPeriods(soldOn: string): (acquiredOn: string) => { days: number; longTerm: boolean } {
  const known = new Map<string, { days: number; longTerm: boolean }>();
  return (acquiredOn) => {
    let period = known.get(acquiredOn);
    if (!period) {
      period = { days: holdingDays(acquiredOn, soldOn), longTerm: isLongTerm(acquiredOn, soldOn) };
      known.set(acquiredOn, period);
    }
    return period;
  };
}

// ---------------------------------------------------------------------------
// public operations

/**
 * A SELL: relieves open long lots (acquired on or before soldOn) by `method`.
 *
 * - One realized-gain row per relieved lot. Proceeds are split pro rata by
 *   quantity across the relieved lots (and the short remainder, last), parts
 *   rounded to 10 places, residual on the last part, summing exactly to
 *   `proceeds`.
 * - FIFO/LIFO/HIFO relieve each lot's own cost: costBasis × relieved / qtyOpen.
 * - AVERAGE relieves lots in FIFO order (that decides acquiredOn, holding
 *   period and which lots close) at the pooled average cost of all eligible
 *   open long lots; the lots that stay open are re-based to that same pooled
 *   average per unit (their costBasis changes and they appear in `updates`).
 * - Selling more than is held throws DomainError BAD_USER_INPUT
 *   "insufficient quantity: holding H, selling Q, short by S" unless
 *   allowShort, in which case every long lot is relieved and the remainder is
 *   returned as `shortOpened` (negative quantity, its share of proceeds).
 */
export function relieveLots(lots: readonly Lot[], input: SellInput): SellResult {
  const quantity = positive(input.quantity, 'quantity');
  const proceeds = nonNegative(input.proceeds, 'proceeds');
  assertIsoDate(input.soldOn, 'soldOn');
  const m = method(input.method);
  const soldOn = input.soldOn;

  const slices = toSlices(lots, 'long', soldOn);
  const held = slices.reduce((a, s) => a.plus(s.qty), ZERO);
  if (quantity.gt(held) && !input.allowShort) {
    throw bad(
      `insufficient quantity: holding ${held.toString()}, selling ${quantity.toString()}, short by ${quantity.minus(held).toString()}`,
    );
  }

  const c = consume(slices, quantity, m);
  const weights = c.reliefs.map((r) => r.qty);
  if (c.unfilled.gt(0)) weights.push(c.unfilled);
  const parts = allocateProRata(proceeds, weights);

  const periodOf = holdingPeriods(soldOn);
  const gains: RealizedGainRow[] = c.reliefs.map((r, i) => {
    const p = parts[i]!;
    const period = periodOf(r.slice.lot.acquiredOn);
    return {
      lotId: r.slice.lot.id,
      quantity: r.qty,
      proceeds: p,
      cost: r.basis,
      gain: p.minus(r.basis),
      acquiredOn: r.slice.lot.acquiredOn,
      soldOn,
      holdingDays: period.days,
      longTerm: period.longTerm,
    };
  });

  const result: SellResult = { updates: collectUpdates(c, slices, false, soldOn), gains };
  if (c.unfilled.gt(0)) {
    const p = parts[parts.length - 1]!;
    result.shortOpened = { quantity: c.unfilled.neg(), proceeds: p, costBasis: signed(p, true) };
  }
  return result;
}

/**
 * A BUY: first covers open short lots (opened on or before boughtOn) by
 * `method`, then returns what is left as `longOpened` for a new long lot.
 * With no short lots the whole buy is `longOpened`, so the service can route
 * every BUY through here.
 *
 * - The buy's cost (fees included) is split pro rata by quantity across the
 *   covered short lots and the new long remainder (last), 10 places, residual
 *   on the last part.
 * - Per covered short lot: proceeds = the short proceeds relieved (positive),
 *   cost = its share of the cover cost, gain = proceeds − cost, acquiredOn =
 *   the date the short was opened, soldOn = boughtOn.
 * - longTerm is always false for a short: under IRS Publication 550 ("Short
 *   Sales") the holding period is that of the property delivered to close the
 *   short, which here is bought the same day.
 * - AVERAGE pools the short proceeds like relieveLots pools long cost.
 */
export function coverShorts(lots: readonly Lot[], input: BuyInput): BuyResult {
  const quantity = positive(input.quantity, 'quantity');
  const cost = nonNegative(input.cost, 'cost');
  assertIsoDate(input.boughtOn, 'boughtOn');
  const m = method(input.method);
  const boughtOn = input.boughtOn;

  const slices = toSlices(lots, 'short', boughtOn);
  const c = consume(slices, quantity, m);
  const weights = c.reliefs.map((r) => r.qty);
  if (c.unfilled.gt(0)) weights.push(c.unfilled);
  const parts = allocateProRata(cost, weights);

  const periodOf = holdingPeriods(boughtOn);
  const gains: RealizedGainRow[] = c.reliefs.map((r, i) => {
    const coverCost = parts[i]!;
    return {
      lotId: r.slice.lot.id,
      quantity: r.qty,
      proceeds: r.basis,
      cost: coverCost,
      gain: r.basis.minus(coverCost),
      acquiredOn: r.slice.lot.acquiredOn,
      soldOn: boughtOn,
      holdingDays: periodOf(r.slice.lot.acquiredOn).days,
      longTerm: false,
    };
  });

  const result: BuyResult = { updates: collectUpdates(c, slices, true, boughtOn), gains };
  if (c.unfilled.gt(0)) {
    result.longOpened = { quantity: c.unfilled, cost: parts[parts.length - 1]! };
  }
  return result;
}

/**
 * A SPLIT: multiplies qtyOpen and qtyOriginal of every open lot (long or short)
 * by `ratio` (2 = two-for-one, 0.5 = one-for-two), rounding quantities to 10
 * places; costBasis is unchanged, so per-unit cost is divided by the ratio.
 * Closed lots (qtyOpen = 0) are returned unchanged. Returns new lot objects
 * in the order given. ratio must be > 0 (DomainError BAD_USER_INPUT).
 */
export function applySplit(lots: readonly Lot[], ratio: D): Lot[] {
  const r = positive(ratio, 'split ratio');
  return lots.map((raw) => {
    const lot = normalizeLot(raw);
    if (lot.qtyOpen.isZero()) return lot;
    return { ...lot, qtyOpen: splitQuantity(lot.qtyOpen, r), qtyOriginal: splitQuantity(lot.qtyOriginal, r) };
  });
}

/**
 * A quantity after a split of `ratio`: quantity × ratio rounded to 10 places, half-even. The one
 * rounding rule of a split, for a lot here and for a position in the NAV replay (nav-series.ts),
 * so that a position held in one lot has the same digits in both.
 */
export function splitQuantity(quantity: D, ratio: D): D {
  return ours(quantity).times(ours(ratio)).toDecimalPlaces(QTY_DP, D.ROUND_HALF_EVEN);
}

/**
 * A lot as it stands after `ratios` (splits booked before it but dated on or after its
 * acquisition, in the order they were applied): applySplit once per ratio, so its quantities
 * are rounded step by step exactly as they would have been had it been open when each split
 * was booked. Cost basis unchanged.
 */
export function restateBySplits(lot: Lot, ratios: readonly D[]): Lot {
  return ratios.reduce((l, r) => applySplit([l], r)[0]!, lot);
}
