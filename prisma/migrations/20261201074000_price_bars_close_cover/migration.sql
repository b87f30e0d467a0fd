-- The unique key of price_bars also carries close (INCLUDE), so that the daily closes read
-- by analytics (the benchmark aggregation of loadBenchmarkSums, loadCloses) come from
-- index-only scans instead of one heap page per bar: a security's bars arrive one day at a
-- time and lie on as many pages as there are days. Same name, key columns and uniqueness
-- as the index Prisma made for @@unique([securityId, timeframe, ts]); Prisma's schema
-- cannot express INCLUDE, so it is written here by hand.
DROP INDEX "price_bars_security_id_timeframe_ts_key";
CREATE UNIQUE INDEX "price_bars_security_id_timeframe_ts_key" ON "price_bars"("security_id", "timeframe", "ts") INCLUDE ("close");
