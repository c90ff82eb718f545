-- Security history outlives account deletion (docs/security.md, "Audit
-- records"): deleting a user no longer cascades to its auth_events. Its rows
-- stay, with the user reference cleared (ON DELETE SET NULL), the IP and user
-- agent removed, and `subject`, a pseudonym of the deleted account, set.

-- AlterTable
ALTER TABLE "auth_events" ADD COLUMN "subject" TEXT,
ALTER COLUMN "user_id" DROP NOT NULL;

-- DropForeignKey
ALTER TABLE "auth_events" DROP CONSTRAINT "auth_events_user_id_fkey";

-- AddForeignKey
ALTER TABLE "auth_events" ADD CONSTRAINT "auth_events_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateIndex
CREATE INDEX "auth_events_subject_idx" ON "auth_events"("subject");
