import { D } from '../domain/decimal';
import { validateBenchmarkWeights } from '../domain/analytics/benchmark';
import type { Db } from './db';
import type { ServiceContext } from './context';
import { requireActor, requireRole } from './access';
import { writeAudit } from './audit';
import { inTransaction } from './transaction';
import { badInput, currencyCode, symbol as validSymbol, text } from './validate';
import { loadBenchmark, type LoadedBenchmark } from './analytics-data';
import { markBenchmarkSumsStale } from './benchmark-sums';
import type { EventBus } from '../events/bus';

export interface BenchmarkInputArg {
  code: string;
  name: string;
  currency: string;
  constituents: { symbol: string; weight: D }[];
}

export type BenchmarkOut = Omit<LoadedBenchmark, 'constituents'> & { constituents: LoadedBenchmark['constituents'] };

/** Benchmarks: shared reference data, so only ADMIN and MANAGER change them (audited). */
export class BenchmarkService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  async upsert(ctx: ServiceContext, input: BenchmarkInputArg): Promise<BenchmarkOut> {
    requireRole(ctx, 'ADMIN', 'MANAGER');
    const code = input.code.trim().toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9._-]{0,31}$/.test(code)) throw badInput(`code: "${input.code}" is not a valid benchmark code (1-32 of A-Z 0-9 . _ -)`);
    const name = text(input.name, 'name');
    const currency = currencyCode(input.currency);
    if (input.constituents.length > 10_000) throw badInput('at most 10,000 constituents');
    const constituents = input.constituents.map((c, i) => {
      if (c.weight.decimalPlaces() > 12) throw badInput(`constituents[${i}].weight: at most 12 decimals`);
      return { symbol: validSymbol(c.symbol, `constituents[${i}].symbol`), weight: c.weight };
    });
    validateBenchmarkWeights(constituents);
    await inTransaction(this.db, ctx, async (tx, afterCommit) => {
      const secs = await tx.security.findMany({ where: { symbol: { in: constituents.map((c) => c.symbol) } }, select: { id: true, symbol: true } });
      const idOf = new Map(secs.map((s) => [s.symbol, s.id]));
      const unknown = constituents.filter((c) => !idOf.has(c.symbol)).map((c) => c.symbol);
      if (unknown.length) throw badInput(`unknown constituent symbol(s): ${unknown.slice(0, 10).join(', ')}`);
      const before = await tx.benchmark.findUnique({ where: { code }, include: { constituents: true } });
      const b = await tx.benchmark.upsert({ where: { code }, create: { code, name, currency }, update: { name, currency } });
      // New constituents or weights change every stored day of the benchmark's sums.
      const old = new Map(before?.constituents.map((k) => [k.securityId, k.weight.toString()]));
      if (before && (old.size !== constituents.length || constituents.some((c) => !c.weight.eq(old.get(idOf.get(c.symbol)!) ?? -1)))) await markBenchmarkSumsStale(tx, { benchmarkId: b.id });
      await tx.benchmarkConstituent.deleteMany({ where: { benchmarkId: b.id } });
      await tx.benchmarkConstituent.createMany({ data: constituents.map((c) => ({ benchmarkId: b.id, securityId: idOf.get(c.symbol)!, weight: c.weight.toFixed() })) });
      await writeAudit(tx, ctx, {
        action: before ? 'benchmark.update' : 'benchmark.create',
        entityType: 'Benchmark',
        entityId: b.id,
        before,
        after: { ...b, constituents: constituents.map((c) => ({ symbol: c.symbol, weight: c.weight.toFixed() })) },
      });
      if (before) afterCommit(() => this.bus.publish({ type: 'benchmark.changed', benchmarkId: b.id, code }));
    });
    return (await loadBenchmark(this.db, code))!;
  }

  async byCode(ctx: ServiceContext, code: string): Promise<BenchmarkOut | null> {
    requireActor(ctx);
    if (code.trim().length > 32) return null;
    return loadBenchmark(this.db, code);
  }

  async list(ctx: ServiceContext): Promise<BenchmarkOut[]> {
    requireActor(ctx);
    const rows = await this.db.benchmark.findMany({ orderBy: { code: 'asc' }, select: { code: true } });
    return (await Promise.all(rows.map((r) => loadBenchmark(this.db, r.code)))).filter((b): b is BenchmarkOut => !!b);
  }
}
