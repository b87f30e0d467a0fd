
-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "expired_at" TIMESTAMPTZ(3);

