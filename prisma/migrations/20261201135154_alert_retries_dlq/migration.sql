-- Webhook retries and dead letters as tables (issue 6, the seeds' alert_retries and alert_dlq):
-- one alert_retries row per failed attempt, one alert_dlq row per delivery given up, each written
-- in the transaction that changes the delivery's status.

-- CreateTable
CREATE TABLE "alert_retries" (
    "delivery_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error" TEXT NOT NULL,
    "http_status" INTEGER,
    "next_attempt_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_retries_pkey" PRIMARY KEY ("delivery_id","attempt")
);

-- CreateTable
CREATE TABLE "alert_dlq" (
    "delivery_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL,
    "last_error" TEXT NOT NULL,
    "dead_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_dlq_pkey" PRIMARY KEY ("delivery_id")
);

-- CreateIndex
CREATE INDEX "alert_dlq_event_id_idx" ON "alert_dlq"("event_id");

-- AddForeignKey
ALTER TABLE "alert_retries" ADD CONSTRAINT "alert_retries_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "alert_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_dlq" ADD CONSTRAINT "alert_dlq_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "alert_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_dlq" ADD CONSTRAINT "alert_dlq_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "alert_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security as on alert_deliveries (20261201073000_row_level_security): a row belongs to
-- the portfolio of its alert event (on PGlite the application is the superuser, as there).
DO $$
DECLARE
  spec text[];
  readable text;
  writable text;
  lists constant text[] := ARRAY['app_readable_portfolios', 'app_writable_portfolios'];
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ['alert_retries', 'EXISTS (SELECT 1 FROM "alert_deliveries" d JOIN "alert_events" p ON p."id" = d."event_id" WHERE d."id" = "delivery_id" AND (SELECT public.%s()) && ARRAY[p."portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid])'],
    ['alert_dlq', 'EXISTS (SELECT 1 FROM "alert_events" p WHERE p."id" = "event_id" AND (SELECT public.%s()) && ARRAY[p."portfolio_id", ''00000000-0000-0000-0000-000000000000''::uuid])']
  ] LOOP
    readable := format(spec[2], lists[1]);
    writable := format(spec[2], lists[2]);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', spec[1]);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (%s)', spec[1] || '_read', spec[1], readable);
    EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', spec[1] || '_insert', spec[1], writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', spec[1] || '_update', spec[1], writable, writable);
    EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (%s)', spec[1] || '_delete', spec[1], writable);
  END LOOP;
END
$$;
