import { D, ZERO, ONE, dec } from '../decimal';
import { DomainError } from '../errors';

/**
 * Standard normal distribution in Decimal arithmetic.
 *
 * Φ(x) = ½ (1 + erf(x/√2)), with erf from its everywhere-convergent series of
 * positive terms (Abramowitz & Stegun 7.1.6):
 *   erf(y) = (2/√π) e^(−y²) Σ_{n≥0} 2ⁿ y^(2n+1) / (1·3·5···(2n+1))
 * No cancellation, so Φ is accurate to the working precision (40 digits).
 *
 * Φ⁻¹(p): Peter J. Acklam's rational approximation ("An algorithm for
 * computing the inverse normal cumulative distribution function", 2003;
 * relative error < 1.15e−9), refined with Halley's method against the Φ
 * above exactly as Acklam suggests, iterated until the step is below 1e−36.
 */

const A = ['-3.969683028665376e+01', '2.209460984245205e+02', '-2.759285104469687e+02', '1.383577594809975e+02', '-3.066479806614716e+01', '2.506628277459239e+00'].map(dec);
const B = ['-5.447609879822406e+01', '1.615858368580409e+02', '-1.556989798598866e+02', '6.680131188771972e+01', '-1.328068155288572e+01'].map(dec);
const C = ['-7.784894002430293e-03', '-3.223964580411365e-01', '-2.400758277161838e+00', '-2.549732539343734e+00', '4.374664141464968e+00', '2.938163982698783e+00'].map(dec);
const E = ['7.784695709041462e-03', '3.224671290700398e-01', '2.445134137142996e+00', '3.754408661907416e+00'].map(dec);
const P_LOW = dec('0.02425');
const P_HIGH = ONE.minus(P_LOW);
const HALF = dec('0.5');
const TWO = dec(2);
const PI = D.acos(-1);
const SQRT_2 = TWO.sqrt();
const SQRT_2PI = TWO.times(PI).sqrt();
const TWO_OVER_SQRT_PI = TWO.div(PI.sqrt());
const SERIES_EPS = dec('1e-45');
const STEP_EPS = dec('1e-36');

/** Horner: cs[0]·x^(k−1) + … + cs[k−1]. */
function poly(cs: readonly D[], x: D): D {
  let acc: D = ZERO;
  for (const c of cs) acc = acc.times(x).plus(c);
  return acc;
}

export function erf(y: D): D {
  if (y.isZero()) return ZERO;
  if (y.isNeg()) return erf(y.neg()).neg();
  const y2 = y.times(y);
  const twoY2 = y2.times(TWO);
  let term: D = y; // n = 0: y / 1
  let total: D = y;
  for (let n = 0; n < 100000; n++) {
    term = term.times(twoY2).div(2 * n + 3);
    total = total.plus(term);
    if (term.lt(total.times(SERIES_EPS))) break;
  }
  const result = TWO_OVER_SQRT_PI.times(y2.neg().exp()).times(total);
  return result.gt(ONE) ? ONE : result;
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: D): D {
  return HALF.times(ONE.plus(erf(x.div(SQRT_2))));
}

/** Standard normal density φ(x). */
export function normalPdf(x: D): D {
  return x.times(x).div(-2).exp().div(SQRT_2PI);
}

/** Φ⁻¹(p) for 0 < p < 1 (BAD_USER_INPUT otherwise). Φ⁻¹(0.95) = 1.6448536269514722…; Φ⁻¹(0.5) = 0. */
export function inverseNormalCdf(p: D): D {
  if (!p.gt(0) || !p.lt(1)) {
    throw new DomainError('BAD_USER_INPUT', `probability must be strictly between 0 and 1, got ${p.toString()}`);
  }
  if (p.eq(HALF)) return ZERO;
  let x: D;
  if (p.lt(P_LOW)) {
    const q = p.ln().times(-2).sqrt();
    x = poly(C, q).div(poly([...E, ONE], q));
  } else if (p.lte(P_HIGH)) {
    const q = p.minus(HALF);
    const r = q.times(q);
    x = poly(A, r).times(q).div(poly([...B, ONE], r));
  } else {
    const q = ONE.minus(p).ln().times(-2).sqrt();
    x = poly(C, q).div(poly([...E, ONE], q)).neg();
  }
  // Halley: x ← x − u / (1 + x·u/2), u = (Φ(x) − p) / φ(x).
  for (let i = 0; i < 20; i++) {
    const u = normalCdf(x).minus(p).times(SQRT_2PI).times(x.times(x).div(2).exp());
    const step = u.div(ONE.plus(x.times(u).div(2)));
    x = x.minus(step);
    if (step.abs().lt(STEP_EPS)) break;
  }
  return x;
}
