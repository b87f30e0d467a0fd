import { createReadStream } from 'node:fs';
import { D } from '../domain/decimal';
import { assertIsoDate } from '../domain/dates';

/*
 * Reading the importer's CSV files: a header naming the columns in any order, then one
 * row per line. Cells are plain (no embedded commas); surrounding whitespace and double
 * quotes are removed. Lines end with \n, \r\n or \r (as node:readline splits them), and
 * blank lines count in the line numbers that errors report.
 */

export interface CsvBatch {
  /** The header's column names, lower-cased. */
  header: string[];
  rows: string[][];
  /** rows[i]'s line number in the file (the header is line 1). */
  lines: number[];
}

function cleanCells(line: string): string[] {
  return line.split(',').map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
  });
}

// Lines with neither whitespace nor quotes (nearly all of a machine-written file) are split as they are.
const NEEDS_CLEANING = /[\s"]/;

/** Streams `path` in batches of `batchSize` rows; `bytes.read` follows the bytes read so far. */
export async function* csvBatches(path: string, required: string[], batchSize: number, bytes: { read: number }): AsyncGenerator<CsvBatch> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new TextDecoder('utf-8');
  let header: string[] | null = null;
  let lineNo = 0;
  let rest = '';
  let rows: string[][] = [];
  let lines: number[] = [];
  const ready: CsvBatch[] = [];
  const take = (line: string) => {
    lineNo++;
    if (!line) return;
    if (NEEDS_CLEANING.test(line)) {
      if (!line.trim()) return;
      rows.push(cleanCells(line));
    } else {
      rows.push(line.split(','));
    }
    lines.push(lineNo);
    if (!header) {
      header = rows.pop()!.map((c) => c.toLowerCase());
      lines.pop();
      const missing = required.filter((r) => !header!.includes(r));
      if (missing.length) throw new Error(`${path}: the header lacks ${missing.join(', ')} (found ${header.join(', ')})`);
    } else if (rows.length >= batchSize) {
      ready.push({ header, rows, lines });
      rows = [];
      lines = [];
    }
  };
  const takeAll = (text: string) => {
    for (const line of text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n')) take(line);
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes.read += chunk.length;
    let text = rest + decoder.decode(chunk, { stream: true });
    // The last line may continue in the next chunk; a final \r may be the first half of \r\n.
    let cut = text.lastIndexOf('\n');
    if (cut < 0 || text.endsWith('\r')) cut = Math.max(cut, text.lastIndexOf('\r', text.length - 2));
    rest = cut < 0 ? text : text.slice(cut + 1);
    text = cut < 0 ? '' : text.slice(0, cut + 1);
    if (text) {
      // The separator ending `text` would otherwise leave an empty last piece.
      takeAll(text.endsWith('\r\n') ? text.slice(0, -2) : text.slice(0, -1));
    }
    yield* ready.splice(0);
  }
  rest += decoder.decode();
  if (rest) takeAll(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  yield* ready.splice(0);
  if (rows.length) yield { header: header!, rows, lines };
}

export function cellsProblem(header: readonly string[], cells: readonly string[]): string | null {
  return cells.length === header.length ? null : `${cells.length} cells, the header has ${header.length}`;
}

/** The cells of one row by column name (a name given twice: the later column). */
export function record(header: readonly string[], cells: readonly string[]): Record<string, string | undefined> {
  const r: Record<string, string | undefined> = {};
  header.forEach((h, i) => (r[h] = cells[i]));
  return r;
}

export function decimalCell(value: string | undefined, name: string, required: boolean): D | null {
  if (value === undefined || value === '') {
    if (required) throw new Error(`${name} is required`);
    return null;
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value)) {
    // NaN, Infinity, exponents, words: the row is reported as the mutation reports NaN.
    const d = /^[+-]?(nan|infinity|inf)$/i.test(value) ? new D(NaN) : null;
    if (d) return d;
    throw new Error(`${name} "${value.slice(0, 40)}" is not a decimal number`);
  }
  return new D(value);
}

export function dateCell(value: string | undefined, name: string): string | null {
  if (!value) return null;
  try {
    assertIsoDate(value, name);
  } catch {
    throw new Error(`${name} "${value.slice(0, 40)}" is not a date YYYY-MM-DD`);
  }
  return value;
}
