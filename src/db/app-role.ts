import type { Database } from './client';

/** The role the row-level security migration creates and grants; the server connects as it (or as a member of it). */
export const APP_ROLE = 'foliograph_app';

/** DATABASE_URL with the application role in place of its user (no password: set DATABASE_APP_URL for one). */
export function appRoleUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.username = APP_ROLE;
  u.password = '';
  return u.toString();
}

/**
 * Refuses a runtime connection that PostgreSQL would let past every policy (a superuser, a
 * BYPASSRLS role, or a table's owner): with it, row-level security would be no wall at all.
 */
export async function assertHeldToPolicies(db: Database): Promise<void> {
  if (db.engine !== 'postgres') return;
  const [role] = await db.prisma.$queryRaw<{ name: string; superuser: boolean; bypass: boolean; owns: boolean }[]>`
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
           EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename = 'portfolios' AND pg_has_role(current_user, t.tableowner, 'USAGE')) AS owns
    FROM pg_roles r WHERE r.rolname = current_user`;
  if (!role || role.superuser || role.bypass || role.owns) {
    throw new Error(
      `the server's database role ${role?.name ?? '?'} is ${role?.superuser ? 'a superuser' : role?.bypass ? 'BYPASSRLS' : 'the owner of the tables'}, ` +
        `which row-level security does not hold: connect as ${APP_ROLE} (DATABASE_APP_URL)`,
    );
  }
}
