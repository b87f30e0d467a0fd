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
-- plpgsql, not SQL: PostgreSQL plans a SQL function's body on every call, plpgsql once per
-- session. Everything is schema-qualified, so that no one's search_path can stand in for
-- these SECURITY DEFINER functions' tables.

CREATE FUNCTION public."app_user_id"() RETURNS uuid LANGUAGE plpgsql STABLE AS $$
DECLARE
  p text := current_setting('app.principal', true);
BEGIN
  IF p ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    RETURN p::uuid;
  END IF;
  RETURN NULL;
END
$$;

-- The asking user's role; NULL for the system, no one, or a deactivated user.
CREATE FUNCTION public."app_user_role"() RETURNS public."Role" LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  r public."Role";
BEGIN
  SELECT u."role" INTO r FROM public."users" u WHERE u."id" = public.app_user_id() AND u."is_active";
  RETURN r;
END
$$;

-- What the asker reads and writes, as `principal|readable|writable` (uuid[] texts), where
-- {nil uuid} stands for every portfolio. Reads: the system, ADMINs and MANAGERs every one;
-- USERs their own; VIEWERs their own and those shared with them; no one nothing. Writes: the
-- system and ADMINs every one; USERs and MANAGERs their own; VIEWERs none.
-- Every policy of every statement asks, so the answer is kept for the rest of the transaction
-- in a transaction-local setting, keyed by the principal; any change to users, portfolios or
-- shares drops it (app_access_changed below). Worked out anew it costs two lookups (~0.2 ms);
-- kept, a setting read (a few µs).
CREATE FUNCTION public."app_access"() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  p text := coalesce(current_setting('app.principal', true), '');
  kept text := current_setting('app.access_kept', true);
  me uuid := public.app_user_id();
  everyone constant uuid[] := '{00000000-0000-0000-0000-000000000000}';
  r public."Role";
  own uuid[];
  readable uuid[] := '{}';
  writable uuid[] := '{}';
BEGIN
  IF kept IS NOT NULL AND kept <> '' AND split_part(kept, '|', 1) = p THEN RETURN kept; END IF;
  IF p = 'system' THEN
    readable := everyone;
    writable := everyone;
  ELSE
    SELECT u."role" INTO r FROM public."users" u WHERE u."id" = me AND u."is_active";
    IF r IS NOT NULL THEN
      IF r <> 'ADMIN' THEN
        SELECT coalesce(array_agg(o."id"), '{}') INTO own FROM public."portfolios" o WHERE o."owner_id" = me;
      END IF;
      readable := CASE
        WHEN r IN ('ADMIN', 'MANAGER') THEN everyone
        WHEN r = 'VIEWER' THEN own || coalesce((SELECT array_agg(s."portfolio_id") FROM public."portfolio_shares" s WHERE s."user_id" = me), '{}')
        ELSE own END;
      writable := CASE WHEN r = 'ADMIN' THEN everyone WHEN r = 'VIEWER' THEN '{}' ELSE own END;
    END IF;
  END IF;
  kept := p || '|' || readable::text || '|' || writable::text;
  PERFORM set_config('app.access_kept', kept, true);
  RETURN kept;
END
$$;

CREATE FUNCTION public."app_readable_portfolios"() RETURNS uuid[] LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN split_part(public.app_access(), '|', 2)::uuid[];
END
$$;

CREATE FUNCTION public."app_writable_portfolios"() RETURNS uuid[] LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN split_part(public.app_access(), '|', 3)::uuid[];
END
$$;

-- The system and ADMINs write every portfolio: exactly those whose writable list is {nil}.
CREATE FUNCTION public."app_writes_all"() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
  RETURN public.app_writable_portfolios() = '{00000000-0000-0000-0000-000000000000}';
END
$$;

-- A change to who owns, shares or may act drops the answer kept above, for the rest of the
-- transaction too. Statement-level: one call however many rows.
CREATE FUNCTION public."app_access_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('app.access_kept', '', true);
  RETURN NULL;
END
$$;
CREATE TRIGGER "portfolios_access_changed" AFTER INSERT OR DELETE OR UPDATE OF "owner_id" ON "portfolios"
  FOR EACH STATEMENT EXECUTE FUNCTION public."app_access_changed"();
CREATE TRIGGER "portfolio_shares_access_changed" AFTER INSERT OR DELETE OR UPDATE ON "portfolio_shares"
  FOR EACH STATEMENT EXECUTE FUNCTION public."app_access_changed"();
CREATE TRIGGER "users_access_changed" AFTER INSERT OR DELETE OR UPDATE OF "role", "is_active" ON "users"
  FOR EACH STATEMENT EXECUTE FUNCTION public."app_access_changed"();

-- ───────────────────────── policies ─────────────────────────
-- Each function sits in a scalar sub-SELECT, evaluated once per statement, not per row. A row
-- passes when the asker's list overlaps {its portfolio, nil}: it names the portfolio, or all.

-- Rows that carry portfolio_id: read where the portfolio is readable, written where it is writable.
DO $$
DECLARE
  t text;
  readable constant text := '(SELECT public.app_readable_portfolios()) && ARRAY["portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid]';
  writable constant text := '(SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid]';
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
    readable := format('EXISTS (SELECT 1 FROM %I p WHERE p."id" = %I AND (SELECT public.app_readable_portfolios()) && ARRAY[p."portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid])', spec[3], spec[2]);
    writable := format('EXISTS (SELECT 1 FROM %I p WHERE p."id" = %I AND (SELECT public.app_writable_portfolios()) && ARRAY[p."portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid])', spec[3], spec[2]);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', spec[1]);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (%s)', spec[1] || '_read', spec[1], readable);
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', spec[1] || '_insert', spec[1], writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', spec[1] || '_update', spec[1], writable, writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (%s)', spec[1] || '_delete', spec[1], writable);
  END LOOP;
END
$$;

-- Portfolios: a new one's owner is the asking USER or MANAGER (or anyone, for an ADMIN); its
-- owner reads it back at once (before the lists above know of it).
ALTER TABLE "portfolios" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "portfolios_read" ON "portfolios" FOR SELECT
  USING ("owner_id" = (SELECT public.app_user_id()) OR (SELECT public.app_readable_portfolios()) && ARRAY["id", '00000000-0000-0000-0000-000000000000'::uuid]);
CREATE POLICY "portfolios_insert" ON "portfolios" FOR INSERT
  WITH CHECK ((SELECT public.app_writes_all()) OR ("owner_id" = (SELECT public.app_user_id()) AND (SELECT public.app_user_role()) IN ('USER', 'MANAGER')));
-- An update keeps a portfolio with an owner who writes it: the asker, whose list holds it
-- (every booking rewrites its portfolio row, so this check is on the hot path: no role lookup).
CREATE POLICY "portfolios_update" ON "portfolios" FOR UPDATE
  USING ((SELECT public.app_writable_portfolios()) && ARRAY["id", '00000000-0000-0000-0000-000000000000'::uuid])
  WITH CHECK ((SELECT public.app_writes_all()) OR ("owner_id" = (SELECT public.app_user_id()) AND (SELECT public.app_writable_portfolios()) && ARRAY["id"]));
CREATE POLICY "portfolios_delete" ON "portfolios" FOR DELETE
  USING ((SELECT public.app_writable_portfolios()) && ARRAY["id", '00000000-0000-0000-0000-000000000000'::uuid]);

-- Shares: made and ended by whoever writes the portfolio; a VIEWER sees their own.
ALTER TABLE "portfolio_shares" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "portfolio_shares_read" ON "portfolio_shares" FOR SELECT
  USING ("user_id" = (SELECT public.app_user_id()) OR (SELECT public.app_readable_portfolios()) = '{00000000-0000-0000-0000-000000000000}'
         OR (SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid]);
CREATE POLICY "portfolio_shares_insert" ON "portfolio_shares" FOR INSERT
  WITH CHECK ((SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid]);
CREATE POLICY "portfolio_shares_update" ON "portfolio_shares" FOR UPDATE
  USING ((SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid])
  WITH CHECK ((SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid]);
CREATE POLICY "portfolio_shares_delete" ON "portfolio_shares" FOR DELETE
  USING ((SELECT public.app_writable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid]);

-- Audit: an ADMIN reads it all; others their own actions and the history of portfolios they
-- read (as AuditLogService.list does). A row is written in the name of the asking user only.
ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "audit_log_read" ON "audit_log" FOR SELECT
  USING ((SELECT public.app_writes_all()) OR "actor_user_id" = (SELECT public.app_user_id())
         OR ("portfolio_id" IS NOT NULL AND (SELECT public.app_readable_portfolios()) && ARRAY["portfolio_id", '00000000-0000-0000-0000-000000000000'::uuid]));
CREATE POLICY "audit_log_insert" ON "audit_log" FOR INSERT
  WITH CHECK (current_setting('app.principal', true) = 'system' OR "actor_user_id" = (SELECT public.app_user_id()));

-- Security events (refused credentials, probes of other owners' ids): read by ADMINs, and by
-- the user one names (an insert reads its row back); any principal records one, since the
-- refusal of a request is what it records.
ALTER TABLE "security_events" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "security_events_read" ON "security_events" FOR SELECT
  USING ((SELECT public.app_writes_all()) OR "user_id" = (SELECT public.app_user_id()));
CREATE POLICY "security_events_insert" ON "security_events" FOR INSERT
  WITH CHECK (current_setting('app.principal', true) = 'system' OR (SELECT public.app_user_id()) IS NOT NULL);
