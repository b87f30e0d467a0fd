-- Hand-written: rules Prisma's schema language cannot express (see Prisma's docs on
-- customising migrations). The database refuses what the application must never write.

-- Market data: a bar's prices agree with each other and are positive.
ALTER TABLE "price_bars"
  ADD CONSTRAINT "price_bars_close_positive" CHECK ("close" > 0),
  ADD CONSTRAINT "price_bars_open_positive" CHECK ("open" IS NULL OR "open" > 0),
  ADD CONSTRAINT "price_bars_high_low" CHECK ("high" IS NULL OR "low" IS NULL OR "high" >= "low"),
  ADD CONSTRAINT "price_bars_high_bounds" CHECK ("high" IS NULL OR ("high" >= "close" AND ("open" IS NULL OR "high" >= "open"))),
  ADD CONSTRAINT "price_bars_low_bounds" CHECK ("low" IS NULL OR ("low" > 0 AND "low" <= "close" AND ("open" IS NULL OR "low" <= "open"))),
  ADD CONSTRAINT "price_bars_volume_nonnegative" CHECK ("volume" IS NULL OR "volume" >= 0);

ALTER TABLE "quotes" ADD CONSTRAINT "quotes_price_positive" CHECK ("price" > 0);
ALTER TABLE "fx_rates"
  ADD CONSTRAINT "fx_rates_rate_positive" CHECK ("rate" > 0),
  ADD CONSTRAINT "fx_rates_distinct_currencies" CHECK ("base" <> "quote");

-- Trading and ledger: quantities and prices that cannot be negative.
ALTER TABLE "orders"
  ADD CONSTRAINT "orders_quantity_positive" CHECK ("quantity" > 0),
  ADD CONSTRAINT "orders_filled_within_quantity" CHECK ("filled_qty" >= 0 AND "filled_qty" <= "quantity");
ALTER TABLE "fills"
  ADD CONSTRAINT "fills_quantity_positive" CHECK ("quantity" > 0),
  ADD CONSTRAINT "fills_price_positive" CHECK ("price" > 0),
  ADD CONSTRAINT "fills_fee_nonnegative" CHECK ("fee" >= 0);
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_fee_nonnegative" CHECK ("fee" >= 0);
-- A lot's open quantity never changes sign and never exceeds what was opened.
ALTER TABLE "lots" ADD CONSTRAINT "lots_open_within_original" CHECK (
  ("qty_original" > 0 AND "qty_open" >= 0 AND "qty_open" <= "qty_original") OR
  ("qty_original" < 0 AND "qty_open" <= 0 AND "qty_open" >= "qty_original"));
ALTER TABLE "benchmark_constituents" ADD CONSTRAINT "benchmark_constituents_weight_range" CHECK ("weight" > 0 AND "weight" <= 1);

-- Audit: append-only. Even a bug or a hand-typed statement cannot rewrite history.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_log_no_update_delete"
  BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();

CREATE TRIGGER "audit_log_no_truncate"
  BEFORE TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
