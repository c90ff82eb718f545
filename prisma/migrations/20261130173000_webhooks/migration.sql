-- Signed webhooks (README.md, "Webhooks"): endpoints, and a transactional
-- outbox of deliveries with their attempts. Triggers write one delivery per
-- subscribed endpoint in the same transaction as the change they report, so
-- every path that creates a user, opens or revokes a session, or records an
-- account event is covered, including paths added later, and nothing is
-- reported for a change that rolled back. NOTIFY on commit wakes the workers.

-- CreateEnum
CREATE TYPE "webhook_delivery_status" AS ENUM ('pending', 'delivering', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "webhooks" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "secret_sealed" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" UUID,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "webhook_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "webhook_delivery_status" NOT NULL DEFAULT 'pending',
    "attempt_count" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    "response" TEXT,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_webhook_id_created_at_idx" ON "webhook_deliveries"("webhook_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "webhook_attempts_delivery_id_started_at_idx" ON "webhook_attempts"("delivery_id", "started_at");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One event: a delivery for each endpoint subscribed to its type, all with one
-- event id (the `webhook-id` header), and the payload in the Standard Webhooks
-- shape { type, timestamp, data } (server/webhooks/payloads.ts).
CREATE FUNCTION gatehouse_webhook_event(p_type TEXT, p_at TIMESTAMPTZ, p_data JSONB) RETURNS void AS $$
DECLARE
  event_id UUID := gen_random_uuid();
  event_payload JSONB := jsonb_build_object(
    'type', p_type,
    'timestamp', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', p_data);
BEGIN
  INSERT INTO "webhook_deliveries" ("webhook_id", "event_id", "event_type", "payload")
    SELECT "id", event_id, p_type, event_payload FROM "webhooks" WHERE p_type = ANY ("events");
  IF FOUND THEN
    PERFORM pg_notify('gatehouse_webhooks', '');
  END IF;
END;
$$ LANGUAGE plpgsql;

-- Accounts: created and deleted (the deletion of any path, by the user or an admin).
CREATE FUNCTION gatehouse_users_webhooks() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM gatehouse_webhook_event('user.created', NEW."created_at", jsonb_build_object('userId', NEW."id", 'email', NEW."email"));
  ELSE
    PERFORM gatehouse_webhook_event('user.deleted', CURRENT_TIMESTAMP, jsonb_build_object('userId', OLD."id"));
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "users_webhooks" AFTER INSERT OR DELETE ON "users"
  FOR EACH ROW EXECUTE FUNCTION gatehouse_users_webhooks();

-- Sessions: opened, and revoked. Sessions that go with a deleted account are
-- reported by user.deleted alone.
CREATE FUNCTION gatehouse_sessions_webhooks() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM gatehouse_webhook_event('session.created', NEW."created_at", jsonb_build_object('userId', NEW."user_id", 'sessionId', NEW."id"));
  ELSIF OLD."revoked_at" IS NULL AND NEW."revoked_at" IS NOT NULL THEN
    PERFORM gatehouse_webhook_event('session.revoked', NEW."revoked_at", jsonb_build_object('userId', NEW."user_id", 'sessionId', NEW."id"));
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "sessions_webhooks" AFTER INSERT OR UPDATE OF "revoked_at" ON "sessions"
  FOR EACH ROW EXECUTE FUNCTION gatehouse_sessions_webhooks();

-- The audit trail's account events.
CREATE FUNCTION gatehouse_auth_events_webhooks() RETURNS trigger AS $$
DECLARE
  webhook_type TEXT := CASE NEW."type"
    WHEN 'password_changed' THEN 'password.changed'
    WHEN 'password_reset' THEN 'password.changed'
    WHEN 'email_verified' THEN 'email.verified'
    WHEN 'mfa_enabled' THEN 'mfa.enabled'
    WHEN 'mfa_disabled' THEN 'mfa.disabled'
    WHEN 'account_disabled' THEN 'user.disabled'
    WHEN 'user_disabled' THEN 'user.disabled'
  END;
  data JSONB;
BEGIN
  IF webhook_type IS NULL OR NEW."user_id" IS NULL THEN
    RETURN NULL;
  END IF;
  data := jsonb_build_object('userId', NEW."user_id");
  IF webhook_type = 'email.verified' THEN
    data := data || jsonb_build_object('email', (SELECT "email" FROM "users" WHERE "id" = NEW."user_id"));
  END IF;
  PERFORM gatehouse_webhook_event(webhook_type, NEW."at", data);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "auth_events_webhooks" AFTER INSERT ON "auth_events"
  FOR EACH ROW EXECUTE FUNCTION gatehouse_auth_events_webhooks();
