-- Hand-written: row-level security, a second wall behind the application's own checks
-- (src/services/access.ts). The application connects as "foliograph_app" (neither superuser
-- nor BYPASSRLS, which PostgreSQL lets past every policy) and sets `app.principal` on its
-- connection before each query whose principal changed (src/db/principal-pool.ts): a user id,
-- 'system' for work that spans owners, or nothing, which shows no rows at all.
-- Tables stay owned by the migrating role, which is not held to the policies (no FORCE): the
-- SECURITY DEFINER functions below read users, portfolios and shares as it, so that policies
-- never recurse into each other. On PGlite the application connects as the superuser, so the
-- policies exist there but do not apply.

-- Roles are cluster-wide: every database migrated on this server shares one.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'foliograph_app') THEN
    CREATE ROLE "foliograph_app" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created meanwhile by a migration of another database
END
$$;

GRANT USAGE ON SCHEMA public TO "foliograph_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "foliograph_app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "foliograph_app";
-- Tables later migrations create get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "foliograph_app";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "foliograph_app";
-- History is appended, never rewritten; the migration history is the migrating role's.
REVOKE UPDATE, DELETE ON "audit_log", "security_events" FROM "foliograph_app";
DO $$
BEGIN
  IF to_regclass('public._prisma_migrations') IS NOT NULL THEN
    REVOKE INSERT, UPDATE, DELETE ON "_prisma_migrations" FROM "foliograph_app";
  END IF;
END
$$;

-- ───────────────────────── who is asking ─────────────────────────

CREATE FUNCTION "app_is_system"() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.principal', true), '') = 'system'
$$;

CREATE FUNCTION "app_user_id"() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN current_setting('app.principal', true) ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN current_setting('app.principal', true)::uuid END
$$;

-- The asking user's role; NULL for no user or a deactivated one.
CREATE FUNCTION "app_user_role"() RETURNS "Role" LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT "role" FROM "users" WHERE "id" = app_user_id() AND "is_active"
$$;

-- The system, ADMINs and MANAGERs read every portfolio; the system and ADMINs write every one.
CREATE FUNCTION "app_reads_all"() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app_is_system() OR coalesce(app_user_role() IN ('ADMIN', 'MANAGER'), false)
$$;

CREATE FUNCTION "app_writes_all"() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT app_is_system() OR coalesce(app_user_role() = 'ADMIN', false)
$$;

-- Everyone else: their own portfolios, and a VIEWER those shared with them.
CREATE FUNCTION "app_readable_portfolios"() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg("id"), '{}') FROM (
    SELECT "id" FROM "portfolios" WHERE "owner_id" = app_user_id() AND app_user_role() IS NOT NULL
    UNION
    SELECT "portfolio_id" FROM "portfolio_shares" WHERE "user_id" = app_user_id() AND app_user_role() = 'VIEWER'
  ) "readable"
$$;

-- USERs and MANAGERs write their own; a VIEWER writes none.
CREATE FUNCTION "app_writable_portfolios"() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg("id"), '{}') FROM "portfolios" WHERE "owner_id" = app_user_id() AND app_user_role() IN ('USER', 'MANAGER')
$$;

-- ───────────────────────── policies ─────────────────────────
-- The functions sit in scalar sub-SELECTs, so each is evaluated once per statement, not per row.

-- Rows that carry portfolio_id: read where the portfolio is readable, written where it is writable.
DO $$
DECLARE
  t text;
  readable constant text := '(SELECT app_reads_all()) OR "portfolio_id" = ANY ((SELECT app_readable_portfolios())::uuid[])';
  writable constant text := '(SELECT app_writes_all()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[])';
BEGIN
  FOREACH t IN ARRAY ARRAY['transactions', 'lots', 'realized_gains', 'cash_balances', 'portfolio_daily_values', 'orders', 'alert_rules', 'alert_events', 'modeling_sessions', 'calculation_runs'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (%s)', t || '_read', t, readable);
    EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (%s)', t || '_delete', t, writable);
    IF t = 'alert_events' THEN
      -- Whoever reads a portfolio acknowledges its alerts.
      EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', t || '_insert', t, writable);
      EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', t || '_update', t, readable, readable);
    ELSIF t = 'calculation_runs' THEN
      -- Reading analytics records how long they took.
      EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', t || '_insert', t, readable);
      EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', t || '_update', t, writable, writable);
    ELSE
      EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', t || '_insert', t, writable);
      EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', t || '_update', t, writable, writable);
    END IF;
  END LOOP;
END
$$;

-- Rows that belong to a portfolio through their parent: fills through orders, deliveries through alert events.
DO $$
DECLARE
  spec text[];
  readable text;
  writable text;
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[['fills', 'order_id', 'orders'], ['alert_deliveries', 'event_id', 'alert_events']] LOOP
    readable := format('(SELECT app_reads_all()) OR EXISTS (SELECT 1 FROM %I p WHERE p."id" = %I AND p."portfolio_id" = ANY ((SELECT app_readable_portfolios())::uuid[]))', spec[3], spec[2]);
    writable := format('(SELECT app_writes_all()) OR EXISTS (SELECT 1 FROM %I p WHERE p."id" = %I AND p."portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]))', spec[3], spec[2]);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', spec[1]);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (%s)', spec[1] || '_read', spec[1], readable);
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', spec[1] || '_insert', spec[1], writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', spec[1] || '_update', spec[1], writable, writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (%s)', spec[1] || '_delete', spec[1], writable);
  END LOOP;
END
$$;

-- Portfolios: a new one's owner is the asking USER or MANAGER (or anyone, for an ADMIN).
ALTER TABLE "portfolios" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "portfolios_read" ON "portfolios" FOR SELECT
  USING ((SELECT app_reads_all()) OR "owner_id" = (SELECT app_user_id()) OR "id" = ANY ((SELECT app_readable_portfolios())::uuid[]));
CREATE POLICY "portfolios_insert" ON "portfolios" FOR INSERT
  WITH CHECK ((SELECT app_writes_all()) OR ("owner_id" = (SELECT app_user_id()) AND (SELECT app_user_role()) IN ('USER', 'MANAGER')));
CREATE POLICY "portfolios_update" ON "portfolios" FOR UPDATE
  USING ((SELECT app_writes_all()) OR "id" = ANY ((SELECT app_writable_portfolios())::uuid[]))
  WITH CHECK ((SELECT app_writes_all()) OR ("owner_id" = (SELECT app_user_id()) AND (SELECT app_user_role()) IN ('USER', 'MANAGER')));
CREATE POLICY "portfolios_delete" ON "portfolios" FOR DELETE
  USING ((SELECT app_writes_all()) OR "id" = ANY ((SELECT app_writable_portfolios())::uuid[]));

-- Shares: made and ended by whoever writes the portfolio; a VIEWER sees their own.
ALTER TABLE "portfolio_shares" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "portfolio_shares_read" ON "portfolio_shares" FOR SELECT
  USING ((SELECT app_reads_all()) OR "user_id" = (SELECT app_user_id()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]));
CREATE POLICY "portfolio_shares_insert" ON "portfolio_shares" FOR INSERT
  WITH CHECK ((SELECT app_writes_all()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]));
CREATE POLICY "portfolio_shares_update" ON "portfolio_shares" FOR UPDATE
  USING ((SELECT app_writes_all()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]))
  WITH CHECK ((SELECT app_writes_all()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]));
CREATE POLICY "portfolio_shares_delete" ON "portfolio_shares" FOR DELETE
  USING ((SELECT app_writes_all()) OR "portfolio_id" = ANY ((SELECT app_writable_portfolios())::uuid[]));

-- Audit: an ADMIN reads it all; others their own actions and the history of portfolios they
-- read (as AuditLogService.list does). A row is written in the name of the asking user only.
ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "audit_log_read" ON "audit_log" FOR SELECT
  USING ((SELECT app_writes_all()) OR "actor_user_id" = (SELECT app_user_id())
         OR ("portfolio_id" IS NOT NULL AND ((SELECT app_reads_all()) OR "portfolio_id" = ANY ((SELECT app_readable_portfolios())::uuid[]))));
CREATE POLICY "audit_log_insert" ON "audit_log" FOR INSERT
  WITH CHECK ((SELECT app_is_system()) OR "actor_user_id" = (SELECT app_user_id()));

-- Security events (refused credentials, probes of other owners' ids): read by ADMINs, and by
-- the user one names (an insert reads its row back); any principal records one, since the
-- refusal of a request is what it records.
ALTER TABLE "security_events" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "security_events_read" ON "security_events" FOR SELECT
  USING ((SELECT app_writes_all()) OR "user_id" = (SELECT app_user_id()));
CREATE POLICY "security_events_insert" ON "security_events" FOR INSERT
  WITH CHECK ((SELECT app_is_system()) OR (SELECT app_user_id()) IS NOT NULL);
