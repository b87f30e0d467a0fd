-- The fill path (TradingService.readFillTarget and the booking's statement), made cheaper
-- for PostgreSQL to run; see BENCHMARKS.md, "Ledger".

-- Σ quantity × price of an order's fills, kept on the order row (which every fill rewrites
-- anyway): the next fill's exact volume-weighted average no longer sums every earlier fill,
-- a read that grew with the order and, under the fills policy, also read every order.
ALTER TABLE "orders" ADD COLUMN     "filled_value" DECIMAL(65,20) NOT NULL DEFAULT 0;
UPDATE "orders" o SET "filled_value" = f."value"
FROM (SELECT "order_id", sum("quantity" * "price") AS "value" FROM "fills" GROUP BY "order_id") f
WHERE f."order_id" = o."id";

-- Hand-written (Prisma's schema cannot say WHERE, and its diff leaves partial indexes alone):
-- a BUY reads the open short lots it may cover, which are rare, while every BUY leaves an
-- open long lot; through the (portfolio, security, closed_on) index a BUY visited every open
-- long lot of the security to find none. Long lots never enter this index.
CREATE INDEX "lots_open_short_idx" ON "lots"("portfolio_id", "security_id") WHERE "closed_on" IS NULL AND "qty_open" < 0;

-- Fewer index entries per booking. Nothing reads the audit log by time (AuditLogService
-- pages by id, which grows with it); a fill's transaction has no externalId, so the
-- idempotency key need not hold an entry for it (uniqueness of the ids given is unchanged:
-- NULLs were never unique, and the lookup by (portfolio, externalId) implies NOT NULL).
DROP INDEX "audit_log_at_idx";
DROP INDEX "transactions_portfolio_id_external_id_key";
CREATE UNIQUE INDEX "transactions_portfolio_id_external_id_key" ON "transactions"("portfolio_id", "external_id") WHERE "external_id" IS NOT NULL;

-- Row-level security's lists, asked by every policy of every statement (a booking's
-- statement asks ~25 times): the kept answer is now read in the asking function itself,
-- without a SECURITY DEFINER call (a user switch each time) into app_access and its
-- app_user_id; app_access is called only when nothing is kept for this principal yet, and
-- app_writes_all no longer switches user either. Same answers as before.
CREATE OR REPLACE FUNCTION public."app_readable_portfolios"() RETURNS uuid[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  kept text := current_setting('app.access_kept', true);
BEGIN
  IF kept <> '' AND split_part(kept, '|', 1) = coalesce(current_setting('app.principal', true), '') THEN
    RETURN split_part(kept, '|', 2)::uuid[];
  END IF;
  RETURN split_part(public.app_access(), '|', 2)::uuid[];
END
$$;

CREATE OR REPLACE FUNCTION public."app_writable_portfolios"() RETURNS uuid[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  kept text := current_setting('app.access_kept', true);
BEGIN
  IF kept <> '' AND split_part(kept, '|', 1) = coalesce(current_setting('app.principal', true), '') THEN
    RETURN split_part(kept, '|', 3)::uuid[];
  END IF;
  RETURN split_part(public.app_access(), '|', 3)::uuid[];
END
$$;

CREATE OR REPLACE FUNCTION public."app_writes_all"() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN public.app_writable_portfolios() = '{00000000-0000-0000-0000-000000000000}';
END
$$;

-- As before, but the asking user is worked out only when the kept answer does not do.
CREATE OR REPLACE FUNCTION public."app_access"() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  p text := coalesce(current_setting('app.principal', true), '');
  kept text := current_setting('app.access_kept', true);
  me uuid;
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
    me := public.app_user_id();
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
