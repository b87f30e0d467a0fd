import type { D } from '../decimal';

/**
 * One closing NAV of a portfolio, in its base currency.
 * `netFlow` = external flows (DEPOSIT − WITHDRAWAL) dated that day; they are
 * taken at the END of the day, so `nav` already includes them.
 */
export interface NavPoint {
  date: string; // YYYY-MM-DD
  nav: D;
  netFlow: D;
}

/** A return over the day ending at `date` (from the previous close to this close). */
export interface DatedReturn {
  date: string;
  ret: D;
}

/** A level series (wealth index, NAV of a fund without flows …) for drawdowns. */
export interface DatedLevel {
  date: string;
  value: D;
}
