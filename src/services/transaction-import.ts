import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { assertIsoDate } from '../domain/dates';
import { D } from '../domain/decimal';
import { DomainError } from '../domain/errors';
import type { TransactionType } from '../domain/ledger';
import type { ServiceContext } from './context';
import type { LedgerService, TransactionInput } from './ledger';

/**
 * Transaction import from CSV, booked row by row through LedgerService.record — the
 * same checks, lots, cash and audit as the API.
 *
 * The file: UTF-8, comma-separated, a header row naming the columns (any order, case-
 * insensitive; double quotes around a field that contains a comma):
 *   date         YYYY-MM-DD                                  required
 *   type         BUY SELL DIVIDEND INTEREST DEPOSIT WITHDRAWAL FEE SPLIT   required
 *   symbol       BUY/SELL/SPLIT; optional for DIVIDEND, INTEREST, FEE
 *   quantity     BUY/SELL
 *   price        BUY/SELL
 *   fee          optional, BUY/SELL
 *   currency     cash rows; BUY/SELL default to the security's
 *   external_id  the broker's id; makes the row idempotent
 *   amount       DIVIDEND/INTEREST/DEPOSIT/WITHDRAWAL/FEE (> 0)
 *   split_ratio  SPLIT (2 = two-for-one)
 *   note         optional
 * Rows are booked in the ledger's order, whatever the file's: by date, on one day a SPLIT after
 * the other rows, otherwise in file order (importTransactions). A row without external_id gets
 * one derived from its content and its occurrence in the file, so re-running an import books
 * nothing twice. A rejected row is reported with its line number and the rest go on.
 */

export const IMPORT_COLUMNS = ['date', 'type', 'symbol', 'quantity', 'price', 'fee', 'currency', 'external_id', 'amount', 'split_ratio', 'note'] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

export interface ImportProgress {
  /** Reading the file (rows that do not parse are rejected here), then booking what parsed. */
  phase: 'reading' | 'booking';
  /** Rows read so far (every one but the header, blank lines and # comments). */
  rows: number;
  booked: number;
  replayed: number;
  rejected: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface ImportResult extends ImportProgress {
  errors: { line: number; message: string }[];
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function decimal(value: string | undefined, column: string): D | null {
  if (value === undefined || value === '') return null;
  if (!DECIMAL.test(value)) throw new DomainError('BAD_USER_INPUT', `${column}: "${value}" is not a decimal number`);
  return new D(value);
}

/** A row that parsed, waiting for its turn in date order. */
interface ParsedRow {
  line: number;
  input: TransactionInput;
}

/**
 * The ledger's order (README, date-order.ts): by date, on one day trades and cash before
 * a split; otherwise the file's order. Array.prototype.sort is stable, the line number makes it
 * explicit.
 */
function inLedgerOrder(a: ParsedRow, b: ParsedRow): number {
  if (a.input.date !== b.input.date) return a.input.date < b.input.date ? -1 : 1;
  const split = Number(a.input.type === 'SPLIT') - Number(b.input.type === 'SPLIT');
  return split || a.line - b.line;
}

/** A rejected row's DomainError as a reported line; any other error, or one about the whole import (no such portfolio, no right to it), stops it. */
function rejectOrThrow(result: ImportResult, line: number, err: unknown): void {
  if (!(err instanceof DomainError)) throw err;
  if (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN' || err.code === 'UNAUTHENTICATED') throw err;
  result.rejected++;
  result.errors.push({ line, message: err.message });
}

/**
 * Two passes. Reading streams the file and parses every row (fields, decimals, the date), keeping
 * the rows that parse — a TransactionInput and a line number each, not the file — and reporting
 * the others. Booking then takes the kept rows in the ledger's order (inLedgerOrder): a backdated
 * BUY or SELL is refused behind a later relief (date-order.ts), so a broker export in
 * any order would otherwise lose its out-of-order rows. Rejected rows are reported by their line
 * in the file, in line order, whichever pass rejected them.
 */
export async function importTransactions(
  ledger: LedgerService,
  ctx: ServiceContext,
  file: string,
  portfolioId: string,
  onProgress: (p: ImportProgress) => void = () => undefined,
): Promise<ImportResult> {
  const started = Date.now();
  const totalBytes = statSync(file).size;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const result: ImportResult = { phase: 'reading', rows: 0, booked: 0, replayed: 0, rejected: 0, bytes: 0, totalBytes, elapsedMs: 0, errors: [] };
  const progress = () => {
    result.elapsedMs = Date.now() - started;
    onProgress(result);
  };
  const seen = new Map<string, number>();
  const parsed: ParsedRow[] = [];
  let header: Column[] | null = null;
  let lineNo = 0;

  for await (const raw of lines) {
    lineNo++;
    result.bytes += Buffer.byteLength(raw, 'utf8') + 1;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (!header) {
      const names = splitCsvLine(line).map((h) => h.toLowerCase().replace(/[\s-]+/g, '_'));
      const unknown = names.filter((n) => !(IMPORT_COLUMNS as readonly string[]).includes(n));
      if (unknown.length) throw new Error(`line ${lineNo}: unknown column(s) ${unknown.join(', ')}; expected some of ${IMPORT_COLUMNS.join(', ')}`);
      if (!names.includes('date') || !names.includes('type')) throw new Error(`line ${lineNo}: the header must name at least date and type`);
      header = names as Column[];
      continue;
    }
    result.rows++;
    try {
      const fields = splitCsvLine(line);
      if (fields.length > header.length) throw new DomainError('BAD_USER_INPUT', `${fields.length} fields, the header has ${header.length}`);
      const row = Object.fromEntries(header.map((h, i) => [h, fields[i] ?? ''])) as Record<Column, string>;
      const type = row.type.toUpperCase() as TransactionType;
      // The sort needs the date; the ledger checks the rest when the row's turn comes.
      assertIsoDate(row.date, 'date');
      // Counted in file order, so a re-run of the same file derives the same ids.
      const content = header.map((h) => `${h}=${h === 'external_id' ? '' : row[h]}`).join('|');
      let externalId = row.external_id || null;
      if (!externalId) {
        const n = (seen.get(content) ?? 0) + 1;
        seen.set(content, n);
        externalId = `import:${createHash('sha256').update(`${content}#${n}`).digest('hex').slice(0, 32)}`;
      }
      parsed.push({
        line: lineNo,
        input: {
          portfolioId,
          type,
          date: row.date,
          symbol: row.symbol || null,
          quantity: decimal(row.quantity, 'quantity'),
          price: decimal(row.price, 'price'),
          fee: decimal(row.fee, 'fee'),
          amount: decimal(row.amount, 'amount'),
          currency: row.currency || null,
          splitRatio: decimal(row.split_ratio, 'split_ratio'),
          externalId,
          note: row.note || null,
        },
      });
    } catch (err) {
      rejectOrThrow(result, lineNo, err);
    }
    progress();
  }
  if (!header) throw new Error(`${file} has no header row`);

  result.phase = 'booking';
  parsed.sort(inLedgerOrder);
  for (const row of parsed) {
    try {
      const { replayed } = await ledger.recordDetailed(ctx, row.input);
      if (replayed) result.replayed++;
      else result.booked++;
    } catch (err) {
      rejectOrThrow(result, row.line, err);
    }
    progress();
  }
  result.errors.sort((a, b) => a.line - b.line);
  progress();
  return result;
}
