// Read by the Prisma CLI (client generation). The app connects through driver adapters
// (src/db/client.ts), and migrations run through src/db/migrate.ts, not the CLI.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
