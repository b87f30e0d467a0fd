-- DropForeignKey
ALTER TABLE "realized_gains" DROP CONSTRAINT "realized_gains_lot_id_fkey";

-- DropForeignKey
ALTER TABLE "realized_gains" DROP CONSTRAINT "realized_gains_portfolio_id_fkey";

-- DropForeignKey
ALTER TABLE "realized_gains" DROP CONSTRAINT "realized_gains_security_id_fkey";

-- DropIndex
DROP INDEX "lots_portfolio_id_security_id_closed_on_idx";


-- CreateIndex
CREATE UNIQUE INDEX "lots_portfolio_id_security_id_id_key" ON "lots"("portfolio_id", "security_id", "id");


-- AddForeignKey
ALTER TABLE "realized_gains" ADD CONSTRAINT "realized_gains_portfolio_id_security_id_lot_id_fkey" FOREIGN KEY ("portfolio_id", "security_id", "lot_id") REFERENCES "lots"("portfolio_id", "security_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written (Prisma's schema language has no storage parameters): room on every page of
-- lots for a new version of each of its rows, so that relieving a lot (qty_open, cost_basis,
-- closed_on, none of them indexed any more) is a HOT update: the new version goes on the same
-- page and no index gets an entry. A 1,000-lot SELL updates 1,000 lots at once; at the default
-- fillfactor of 100 every one of those updates wrote a new entry in each index of lots. Pages
-- written before this migration keep their layout until they are rewritten.
ALTER TABLE "lots" SET (fillfactor = 50);
