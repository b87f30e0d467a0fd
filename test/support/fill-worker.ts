/*
 * A separate OS process that books fills through the services against a PostgreSQL
 * database, for the "two processes booking fills for the same order" test.
 * argv: <database url> <order id> <user id> <role> <prefix> <count> <quantity> <price>
 * Prints one JSON line: { ok, refused: { [code]: n } }.
 */
import { openDatabase } from '../../src/db/client';
import { asUser } from '../../src/db/principal';
import { LocalEventBus } from '../../src/events/bus';
import { createServices } from '../../src/services';
import { D } from '../../src/domain/decimal';
import { DomainError } from '../../src/domain/errors';
import type { Role } from '../../src/generated/prisma/client';

async function main() {
  const [url, orderId, userId, role, prefix, count, quantity, price] = process.argv.slice(2) as string[];
  const db = await openDatabase({ url, poolSize: 5 });
  const services = createServices(db.prisma, new LocalEventBus());
  const ctx = { actor: { userId: userId!, role: role as Role, apiKeyId: null }, meta: { requestId: `worker-${prefix}` } };
  let ok = 0;
  const refused: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: Number(count) }, async (_, i) => {
      try {
        // A request of this user's, as the server would run it.
        await asUser(userId!, () => services.trading.recordFill(ctx, { orderId: orderId!, externalId: `${prefix}-${i}`, quantity: new D(quantity!), price: new D(price!), executedAt: new Date() }));
        ok++;
      } catch (err) {
        const code = err instanceof DomainError ? err.code : `ERROR ${(err as Error).message}`;
        refused[code] = (refused[code] ?? 0) + 1;
      }
    }),
  );
  process.stdout.write(JSON.stringify({ ok, refused }) + '\n');
  await db.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
