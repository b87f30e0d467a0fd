-- The per-(benchmark, business day) store of constituent return sums (src/services/benchmark-sums.ts)
-- and its stale mark. Prisma's diff also proposes rebuilding price_bars' unique key without its
-- INCLUDE (close) column (see HAND_WRITTEN in src/db/migrate.ts); left out.

-- AlterTable
ALTER TABLE "benchmarks" ADD COLUMN     "sums_stale_from" DATE;

-- CreateTable
CREATE TABLE "benchmark_daily_sums" (
    "benchmark_id" UUID NOT NULL,
    "asof_date" DATE NOT NULL,
    "part" INTEGER NOT NULL,
    "sector" TEXT,
    "asset_class" TEXT,
    "country" CHAR(2),
    "currency" CHAR(3) NOT NULL,
    "ret_sum" DECIMAL(1000,100),
    "started" INTEGER NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "benchmark_daily_sums_pkey" PRIMARY KEY ("benchmark_id","asof_date","part")
);

-- AddForeignKey
ALTER TABLE "benchmark_daily_sums" ADD CONSTRAINT "benchmark_daily_sums_benchmark_id_fkey" FOREIGN KEY ("benchmark_id") REFERENCES "benchmarks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
