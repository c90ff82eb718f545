-- Live events (auth.events): one row per event, written by triggers in the same
-- transaction as the change, and announced with NOTIFY, which PostgreSQL (and
-- PGlite) delivers only when that transaction commits. Rows are kept for an
-- hour so that a reconnecting subscriber can resume from its last event id.

-- CreateTable
CREATE TABLE "live_events" (
    "id" BIGSERIAL NOT NULL,
    "user_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "session_id" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "live_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "live_events_user_id_id_idx" ON "live_events"("user_id", "id");

-- CreateIndex
CREATE INDEX "live_events_at_idx" ON "live_events"("at");

CREATE FUNCTION gatehouse_live_event(p_user UUID, p_type TEXT, p_session UUID, p_at TIMESTAMPTZ) RETURNS void AS $$
DECLARE
  new_id BIGINT;
BEGIN
  INSERT INTO "live_events" ("user_id", "type", "session_id", "at") VALUES (p_user, p_type, p_session, p_at) RETURNING "id" INTO new_id;
  PERFORM pg_notify('gatehouse_live', json_build_object('id', new_id::text, 'userId', p_user, 'type', p_type, 'sessionId', p_session, 'at', p_at)::text);
END;
$$ LANGUAGE plpgsql;

-- Sessions: opened (signed_in), revoked, or deleted while live (account deletion).
CREATE FUNCTION gatehouse_sessions_live() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM gatehouse_live_event(NEW."user_id", 'signed_in', NEW."id", NEW."created_at");
  ELSIF TG_OP = 'UPDATE' THEN
    IF OLD."revoked_at" IS NULL AND NEW."revoked_at" IS NOT NULL THEN
      PERFORM gatehouse_live_event(NEW."user_id", 'session_revoked', NEW."id", NEW."revoked_at");
    END IF;
  ELSIF OLD."revoked_at" IS NULL THEN
    PERFORM gatehouse_live_event(OLD."user_id", 'session_revoked', OLD."id", CURRENT_TIMESTAMP);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "sessions_live" AFTER INSERT OR DELETE OR UPDATE OF "revoked_at" ON "sessions"
  FOR EACH ROW EXECUTE FUNCTION gatehouse_sessions_live();

-- The audit trail's account events.
CREATE FUNCTION gatehouse_auth_events_live() RETURNS trigger AS $$
DECLARE
  live_type TEXT := CASE NEW."type"
    WHEN 'password_changed' THEN 'password_changed'
    WHEN 'password_reset' THEN 'password_changed'
    WHEN 'email_verified' THEN 'email_verified'
    WHEN 'mfa_enabled' THEN 'mfa_changed'
    WHEN 'mfa_disabled' THEN 'mfa_changed'
    WHEN 'account_disabled' THEN 'account_disabled'
    WHEN 'user_disabled' THEN 'account_disabled'
  END;
BEGIN
  IF live_type IS NOT NULL AND NEW."user_id" IS NOT NULL THEN
    PERFORM gatehouse_live_event(NEW."user_id", live_type, NULL, NEW."at");
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "auth_events_live" AFTER INSERT ON "auth_events"
  FOR EACH ROW EXECUTE FUNCTION gatehouse_auth_events_live();
