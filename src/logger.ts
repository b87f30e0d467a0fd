import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on stdout: one per request and per notable event, with the request id. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'foliograph' }, timestamp: pino.stdTimeFunctions.isoTime });
}
