import { D, ZERO, ONE, dec } from '../decimal';
import { toEpochDay } from '../dates';
import { IntPowers } from '../int-powers';

/**
 * XIRR: the annualized internal rate of return of dated cash flows, day count
 * actual/365 (Excel's XIRR convention):
 *
 *   Σ a_i · (1 + r)^(−t_i / 365) = 0,   t_i = days from the earliest flow.
 *
 * Sign convention is the caller's; only the existence of both signs matters
 * (negating every flow leaves the rate unchanged).
 *
 * Solver: we search x = ln(1 + r) instead of r, so every x ∈ ℝ is a valid
 * rate (r > −1) and the discount factor is q^t with q = e^(−x/365) and t an
 * integer — one `exp` per evaluation, then exact-algorithm integer powers (decimal.js's
 * pow, with the squarings of q shared between the flows: int-powers.ts).
 * A bracket [lo, hi] with a sign change is found by doubling outwards from
 * [−1, 1] up to |x| ≤ 4096, then Brent's method (Brent 1973, "Algorithms for
 * Minimization without Derivatives", ch. 4; as in Numerical Recipes `zbrent`)
 * narrows it. Brent never leaves the bracket, so it cannot diverge; it falls
 * back to bisection whenever interpolation is not making progress.
 *
 * Before Brent, a double-precision bisection inside that bracket locates the root to
 * ~1e-12; if the 40-digit NPV changes sign across a small interval around it, Brent starts
 * from that interval (a few iterations instead of a dozen, each costing one `exp` and a
 * power per flow), otherwise from the whole bracket. Either way the root lies inside the
 * first bracket found.
 *
 * With several sign changes in the flows there may be several IRRs; the one
 * inside the first bracket found is returned.
 */
export interface CashFlow {
  date: string; // YYYY-MM-DD
  amount: D;
}

export type XirrFailure =
  | 'NO_CASHFLOWS' // nothing to solve
  | 'ZERO_DURATION' // every flow is on the same day: no rate is defined
  | 'NO_SIGN_CHANGE' // flows are all ≥ 0 or all ≤ 0: NPV never crosses zero
  | 'NO_ROOT_BRACKETED' // signs differ but NPV keeps its sign for all |ln(1+r)| ≤ 4096
  | 'NO_CONVERGENCE'; // iteration budget exhausted (not expected: Brent converges)

export type XirrResult =
  | { ok: true; rate: D; iterations: number }
  | { ok: false; reason: XirrFailure; message: string };

export interface XirrOptions {
  /** Absolute tolerance on x = ln(1 + r). Default 1e-30. */
  tolerance?: D;
  /** Brent iteration budget. Default 500. */
  maxIterations?: number;
}

const DAYS_PER_YEAR = dec(365);
const X_LIMIT = dec(4096);
const EPS = dec('1e-38'); // ~ machine epsilon of a 40-digit Decimal
const HALF = dec('0.5');
const TWO = dec(2);
const THREE = dec(3);

interface Term {
  t: number; // integer day offset from the earliest flow
  a: D;
}

/** −1, 0 or 1. */
function sign(x: D): number {
  return x.isZero() ? 0 : x.isNeg() ? -1 : 1;
}

function fail(reason: XirrFailure, message: string): XirrResult {
  return { ok: false, reason, message };
}

export function xirr(flows: readonly CashFlow[], options: XirrOptions = {}): XirrResult {
  const tolerance = options.tolerance ?? dec('1e-30');
  const maxIterations = options.maxIterations ?? 500;

  // Aggregate by day (validates every date).
  const byDay = new Map<number, D>();
  for (const f of flows) {
    const day = toEpochDay(f.date, 'cash flow date');
    byDay.set(day, (byDay.get(day) ?? ZERO).plus(f.amount));
  }
  if (byDay.size === 0) return fail('NO_CASHFLOWS', 'no cash flows');
  const days = [...byDay.keys()].sort((p, q) => p - q);
  const first = days[0] as number;
  const terms: Term[] = days.map((d) => ({ t: d - first, a: byDay.get(d) as D }));
  if (terms.length === 1) return fail('ZERO_DURATION', 'all cash flows are on the same day');
  const hasPositive = terms.some((x) => x.a.gt(0));
  const hasNegative = terms.some((x) => x.a.lt(0));
  if (!hasPositive || !hasNegative) {
    return fail('NO_SIGN_CHANGE', 'cash flows need at least one positive and one negative amount');
  }

  /** NPV as a function of x = ln(1 + r). */
  const npv = (x: D): D => {
    const q = new IntPowers(x.neg().div(DAYS_PER_YEAR).exp());
    let total: D = ZERO;
    for (const { t, a } of terms) total = total.plus(t === 0 ? a : a.times(q.pow(t)));
    return total;
  };

  // Bracket.
  let lo = ONE.neg();
  let hi: D = ONE;
  let flo = npv(lo);
  let fhi = npv(hi);
  while (sign(flo) * sign(fhi) > 0) {
    if (lo.abs().gte(X_LIMIT)) {
      return fail('NO_ROOT_BRACKETED', 'NPV does not change sign for any rate in the search range');
    }
    lo = lo.times(TWO);
    hi = hi.times(TWO);
    flo = npv(lo);
    fhi = npv(hi);
  }
  if (flo.isZero()) return { ok: true, rate: lo.exp().minus(ONE), iterations: 0 };
  if (fhi.isZero()) return { ok: true, rate: hi.exp().minus(ONE), iterations: 0 };

  // Narrow the bracket around a double-precision estimate (see above).
  const guess = floatRoot(terms, lo.toNumber(), hi.toNumber());
  if (guess !== null) {
    for (const width of [1e-10, 1e-6]) {
      const w = width * Math.max(1, Math.abs(guess));
      const nlo = D.max(lo, dec(guess - w));
      const nhi = D.min(hi, dec(guess + w));
      if (!nlo.lt(nhi)) break;
      const fnlo = npv(nlo);
      const fnhi = npv(nhi);
      if (fnlo.isZero()) return { ok: true, rate: nlo.exp().minus(ONE), iterations: 0 };
      if (fnhi.isZero()) return { ok: true, rate: nhi.exp().minus(ONE), iterations: 0 };
      if (sign(fnlo) * sign(fnhi) < 0) {
        [lo, flo, hi, fhi] = [nlo, fnlo, nhi, fnhi];
        break;
      }
    }
  }

  // Brent's method.
  let a = lo;
  let fa = flo;
  let b = hi;
  let fb = fhi;
  let c = b;
  let fc = fb;
  let d = b.minus(a);
  let e = d;
  for (let iter = 1; iter <= maxIterations; iter++) {
    if (sign(fb) * sign(fc) > 0) {
      c = a;
      fc = fa;
      d = b.minus(a);
      e = d;
    }
    if (fc.abs().lt(fb.abs())) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol1 = TWO.times(EPS).times(b.abs()).plus(HALF.times(tolerance));
    const xm = HALF.times(c.minus(b));
    if (xm.abs().lte(tol1) || fb.isZero()) {
      return { ok: true, rate: b.exp().minus(ONE), iterations: iter };
    }
    if (e.abs().gte(tol1) && fa.abs().gt(fb.abs())) {
      // Inverse quadratic interpolation (secant when only two points differ).
      const s = fb.div(fa);
      let p: D;
      let q: D;
      if (a.eq(c)) {
        p = TWO.times(xm).times(s);
        q = ONE.minus(s);
      } else {
        const qq = fa.div(fc);
        const r = fb.div(fc);
        p = s.times(TWO.times(xm).times(qq).times(qq.minus(r)).minus(b.minus(a).times(r.minus(ONE))));
        q = qq.minus(ONE).times(r.minus(ONE)).times(s.minus(ONE));
      }
      if (p.gt(0)) q = q.neg();
      p = p.abs();
      const min1 = THREE.times(xm).times(q).minus(tol1.times(q).abs());
      const min2 = e.times(q).abs();
      if (TWO.times(p).lt(D.min(min1, min2))) {
        e = d;
        d = p.div(q);
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b = d.abs().gt(tol1) ? b.plus(d) : b.plus(xm.gte(0) ? tol1 : tol1.neg());
    fb = npv(b);
  }
  return fail('NO_CONVERGENCE', `no convergence within ${maxIterations} iterations`);
}

/**
 * A root of the NPV in x = ln(1 + r) inside [lo, hi] by bisection in double precision, or
 * null when the doubles do not show a sign change there (overflow, cancellation): only a
 * starting point for the Decimal solver, never a result.
 */
function floatRoot(terms: readonly Term[], lo: number, hi: number): number | null {
  const ts = terms.map((x) => x.t / 365);
  const as = terms.map((x) => x.a.toNumber());
  const f = (x: number) => {
    let total = 0;
    for (let i = 0; i < ts.length; i++) total += as[i]! * Math.exp(-x * ts[i]!);
    return total;
  };
  let fl = f(lo);
  const fh = f(hi);
  if (!Number.isFinite(fl) || !Number.isFinite(fh) || Math.sign(fl) * Math.sign(fh) >= 0) return null;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    const fm = f(mid);
    if (!Number.isFinite(fm)) return null;
    if (fm === 0) return mid;
    if (Math.sign(fm) === Math.sign(fl)) {
      lo = mid;
      fl = fm;
    } else hi = mid;
  }
  return (lo + hi) / 2;
}
