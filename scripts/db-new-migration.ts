// Usage: npm run db:migration:new -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql with what schema.prisma adds
// to the existing migrations (Prisma's `migrate dev --create-only`, without its binary).
import { createMigration } from '../src/db/migrate';

async function main() {
  const name = process.argv[2];
  if (!name) throw new Error('usage: npm run db:migration:new -- <name>');
  const folder = await createMigration(name);
  console.log(folder ? `created ${folder}` : 'schema.prisma matches the migrations: nothing to create');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
