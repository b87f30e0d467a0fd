/*
 * Checks on decimal text without building a Decimal, for the file importer's millions of
 * cells. Only the plain, unsigned notation that a NUMERIC column keeps as written is
 * recognised; anything else (signs, exponents, more digits than allowed, a bare ".5")
 * answers null, and the caller falls back to decimal.js for the exact verdict.
 *
 * A canonical text is what decimal.js's toFixed() gives for the same value: no leading
 * zeros before the units digit, no trailing zeros after the point, no point without a
 * fraction. Two canonical texts compare exactly by the length of their integer part, then
 * character by character: equal lengths put the digits of the same weight side by side,
 * and a text that ends first has only zeros after its last digit.
 */

const PLAIN = /^\d+(?:\.\d+)?$/;

/**
 * The canonical text of `text` when it is a plain unsigned decimal with at most
 * `integerDigits` digits before the point (leading zeros aside) and at most `scale` after
 * it (trailing zeros aside); null otherwise.
 */
export function canonicalDecimal(text: string, integerDigits: number, scale: number): string | null {
  if (!PLAIN.test(text)) return null;
  let start = 0;
  const point = text.indexOf('.');
  const intEnd = point < 0 ? text.length : point;
  while (start < intEnd - 1 && text.charCodeAt(start) === 48) start++;
  let end = text.length;
  if (point >= 0) {
    while (end > point + 1 && text.charCodeAt(end - 1) === 48) end--;
    if (end === point + 1) end = point;
  }
  if (intEnd - start > integerDigits || (point >= 0 && end - point - 1 > scale)) return null;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** −1, 0 or 1 as canonical decimal `a` is below, equal to or above canonical decimal `b`. */
export function compareCanonical(a: string, b: string): number {
  const ia = a.indexOf('.');
  const ib = b.indexOf('.');
  const la = ia < 0 ? a.length : ia;
  const lb = ib < 0 ? b.length : ib;
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
