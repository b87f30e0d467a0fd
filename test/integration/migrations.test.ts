import { pendingSchemaChange } from '../../src/db/migrate';
import { applyMigrations } from '../../src/db/migrate';
import { describeEachEngine } from '../support/db';

test('the migrations build exactly what schema.prisma describes (no drift)', async () => {
  // Replays every migration in a shadow database and diffs it against schema.prisma.
  expect(await pendingSchemaChange()).toBe('');
}, 60_000);

describeEachEngine('migrations', (db, engine) => {
  test('a second run applies nothing', async () => {
    expect(await applyMigrations(db())).toEqual([]);
    const rows = await db().prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`;
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(2);
  });

  test('audit_log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const { prisma } = db();
    const entry = await prisma.auditLog.create({ data: { action: 'test', entityType: 'Test', entityId: 'x', after: { a: 1 } } });
    // The trigger refuses them to everyone, the tables' owner included; on PostgreSQL the
    // application role is not even granted them.
    const refused = engine === 'postgres' ? /append-only|permission denied for table audit_log/ : /append-only/;
    await expect(prisma.auditLog.update({ where: { id: entry.id }, data: { action: 'forged' } })).rejects.toThrow(refused);
    await expect(prisma.auditLog.delete({ where: { id: entry.id } })).rejects.toThrow(refused);
    await expect(prisma.$executeRawUnsafe('TRUNCATE audit_log')).rejects.toThrow(refused);
    expect((await prisma.auditLog.findUnique({ where: { id: entry.id } }))?.action).toBe('test');
  });

  test('CHECK constraints refuse price bars whose prices contradict each other', async () => {
    const { prisma } = db();
    const security = await prisma.security.create({ data: { symbol: 'CHK', name: 'Check', currency: 'USD' } });
    const bar = (over: Record<string, string>) =>
      prisma.priceBar.create({ data: { securityId: security.id, ts: new Date('2024-01-02T00:00:00Z'), open: '10', high: '11', low: '9', close: '10.5', volume: '100', ...over } });
    await expect(bar({ high: '8' })).rejects.toThrow(/price_bars_high/);
    await expect(bar({ close: '-1', low: '-2' })).rejects.toThrow(/price_bars_(close|low)/);
    await expect(bar({ volume: '-5' })).rejects.toThrow(/price_bars_volume_nonnegative/);
    await expect(bar({ low: '10.6' })).rejects.toThrow(/price_bars_low_bounds/);
    await expect(bar({})).resolves.toBeTruthy();
    await expect(prisma.fxRate.create({ data: { base: 'USD', quote: 'EUR', date: new Date('2024-01-02'), rate: '0' } })).rejects.toThrow(/fx_rates_rate_positive/);
  });
});
