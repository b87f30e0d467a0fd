/**
 * Pure analytics on Decimal: returns, risk, attribution. No I/O.
 * performance.ts also re-exports xirr.ts and periods.ts.
 */
export * from './types';
export * from './performance';
export * from './risk';
export * from './attribution';
export * from './currency';
export * from './normal';
export * from './stats';
export * from './benchmark';
export * from './holdings';
export * from './stress';
export * from './trailing';
