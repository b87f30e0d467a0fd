-- Hand-written (Prisma's schema cannot say WHERE, and its diff leaves partial indexes alone):
-- the SPLITs of a security in a portfolio from a date on, which every BUY (the splits its lot
-- is restated by) and every SELL (a split on its own day stands in its way) asks for; see
-- src/services/sell-order-in-time.ts. Through (portfolio_id, trade_date, id) that meant
-- visiting every transaction of the portfolio dated that day, for a fill dated today all of
-- today's. Splits are rare: the index is small and no other transaction enters it.
CREATE INDEX "transactions_split_idx" ON "transactions"("portfolio_id", "security_id", "trade_date") WHERE "type" = 'SPLIT';
