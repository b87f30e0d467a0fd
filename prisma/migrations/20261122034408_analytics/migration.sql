-- CreateTable
CREATE TABLE "stress_scenarios" (
    "id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "shocks" JSONB NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stress_scenarios_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "modeling_sessions" (
    "id" UUID NOT NULL,
    "portfolio_id" UUID NOT NULL,
    "user_id" UUID,
    "name" TEXT NOT NULL,
    "trades" JSONB NOT NULL,
    "result" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "modeling_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stress_scenarios_code_key" ON "stress_scenarios"("code");

-- CreateIndex
CREATE UNIQUE INDEX "modeling_sessions_portfolio_id_name_key" ON "modeling_sessions"("portfolio_id", "name");

-- Default stress scenarios (src/domain/analytics/stress.ts DEFAULT_SCENARIOS)
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'MARKET_UP_10', 'Market +10%', '[{"target":"MARKET","key":null,"kind":"RELATIVE","value":"0.10"}]'::jsonb, true);
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'MARKET_DOWN_10', 'Market −10%', '[{"target":"MARKET","key":null,"kind":"RELATIVE","value":"-0.10"}]'::jsonb, true);
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'GFC_2008', '2008-style equity drawdown by sector (approx. S&P 500 sector peak-to-trough, Oct 2007 – Mar 2009)', '[{"target":"SECTOR","key":"Financials","kind":"RELATIVE","value":"-0.80"},{"target":"SECTOR","key":"Real Estate","kind":"RELATIVE","value":"-0.70"},{"target":"SECTOR","key":"Consumer Discretionary","kind":"RELATIVE","value":"-0.55"},{"target":"SECTOR","key":"Industrials","kind":"RELATIVE","value":"-0.60"},{"target":"SECTOR","key":"Materials","kind":"RELATIVE","value":"-0.55"},{"target":"SECTOR","key":"Information Technology","kind":"RELATIVE","value":"-0.50"},{"target":"SECTOR","key":"Energy","kind":"RELATIVE","value":"-0.50"},{"target":"SECTOR","key":"Communication Services","kind":"RELATIVE","value":"-0.45"},{"target":"SECTOR","key":"Health Care","kind":"RELATIVE","value":"-0.40"},{"target":"SECTOR","key":"Utilities","kind":"RELATIVE","value":"-0.40"},{"target":"SECTOR","key":"Consumer Staples","kind":"RELATIVE","value":"-0.30"}]'::jsonb, true);
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'COVID_2020', 'COVID-style equity drawdown by sector (approx. S&P 500 sectors, 19 Feb – 23 Mar 2020)', '[{"target":"SECTOR","key":"Energy","kind":"RELATIVE","value":"-0.55"},{"target":"SECTOR","key":"Financials","kind":"RELATIVE","value":"-0.42"},{"target":"SECTOR","key":"Industrials","kind":"RELATIVE","value":"-0.40"},{"target":"SECTOR","key":"Real Estate","kind":"RELATIVE","value":"-0.38"},{"target":"SECTOR","key":"Materials","kind":"RELATIVE","value":"-0.36"},{"target":"SECTOR","key":"Utilities","kind":"RELATIVE","value":"-0.36"},{"target":"SECTOR","key":"Consumer Discretionary","kind":"RELATIVE","value":"-0.33"},{"target":"SECTOR","key":"Communication Services","kind":"RELATIVE","value":"-0.30"},{"target":"SECTOR","key":"Information Technology","kind":"RELATIVE","value":"-0.30"},{"target":"SECTOR","key":"Health Care","kind":"RELATIVE","value":"-0.28"},{"target":"SECTOR","key":"Consumer Staples","kind":"RELATIVE","value":"-0.24"}]'::jsonb, true);
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'USD_UP_5', 'USD +5% against every currency', '[{"target":"CURRENCY","key":"USD","kind":"RELATIVE","value":"0.05"}]'::jsonb, true);
INSERT INTO "stress_scenarios" ("id", "code", "name", "shocks", "is_default") VALUES (gen_random_uuid(), 'USD_DOWN_5', 'USD −5% against every currency', '[{"target":"CURRENCY","key":"USD","kind":"RELATIVE","value":"-0.05"}]'::jsonb, true);
