-- Roles, disabled accounts and the admin audit trail (README.md, "Roles, admin and audit").
-- Roles live on the user and are read with the session on every request; an
-- impersonation session names its actor; auth_events becomes the one audit
-- table, with the actor and the reason of admin actions.
-- AlterTable
ALTER TABLE "auth_events" ADD COLUMN     "actor_id" UUID,
ADD COLUMN     "reason" TEXT,
ADD COLUMN     "detail" TEXT;

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "impersonator_id" UUID;

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "disabled_at" TIMESTAMPTZ(3),
ADD COLUMN     "disabled_reason" TEXT,
ADD COLUMN     "last_login_at" TIMESTAMPTZ(3),
ADD COLUMN     "roles" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateIndex
CREATE INDEX "auth_events_at_idx" ON "auth_events"("at" DESC);

-- CreateIndex
CREATE INDEX "auth_events_actor_id_at_idx" ON "auth_events"("actor_id", "at" DESC);

-- CreateIndex
CREATE INDEX "auth_events_type_at_idx" ON "auth_events"("type", "at" DESC);

-- CreateIndex
-- Case-insensitive email-prefix search (admin.listUsers): lower(email) LIKE 'prefix%'
-- is a range scan on this index whatever the database's collation. An expression
-- index, which schema.prisma cannot express; Prisma Migrate leaves it alone.
CREATE INDEX "users_email_prefix_idx" ON "users"(lower("email") text_pattern_ops);

-- CreateIndex
CREATE INDEX "users_roles_idx" ON "users" USING GIN ("roles");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_impersonator_id_fkey" FOREIGN KEY ("impersonator_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

