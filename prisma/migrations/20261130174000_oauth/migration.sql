-- OAuth / OpenID Connect sign-in: provider identities linked to users, the
-- authorization requests in flight (state, PKCE verifier and nonce), and the
-- one-time codes callbacks hand to the frontend.

-- CreateTable
CREATE TABLE "oauth_identities" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "email" TEXT,
    "email_verified" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oauth_flows" (
    "id" UUID NOT NULL,
    "state_hash" BYTEA NOT NULL,
    "browser_hash" BYTEA,
    "provider" TEXT NOT NULL,
    "sealed" TEXT NOT NULL,
    "redirect" TEXT NOT NULL,
    "user_id" UUID,
    "session_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_flows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oauth_codes" (
    "id" UUID NOT NULL,
    "secret_hash" BYTEA NOT NULL,
    "provider" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "email" TEXT,
    "email_verified" BOOLEAN NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_codes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "oauth_identities_user_id_idx" ON "oauth_identities"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "oauth_identities_provider_subject_key" ON "oauth_identities"("provider", "subject");

-- CreateIndex
CREATE INDEX "oauth_flows_expires_at_idx" ON "oauth_flows"("expires_at");

-- CreateIndex
CREATE INDEX "oauth_codes_expires_at_idx" ON "oauth_codes"("expires_at");

-- AddForeignKey
ALTER TABLE "oauth_identities" ADD CONSTRAINT "oauth_identities_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "oauth_flows" ADD CONSTRAINT "oauth_flows_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Webhooks: identity.linked and identity.unlinked join the audit trail's
-- account events (migration 20261130173000_webhooks), written in the
-- transaction of the link or unlink like the others.
CREATE OR REPLACE FUNCTION gatehouse_auth_events_webhooks() RETURNS trigger AS $$
DECLARE
  webhook_type TEXT := CASE NEW."type"
    WHEN 'password_changed' THEN 'password.changed'
    WHEN 'password_reset' THEN 'password.changed'
    WHEN 'email_verified' THEN 'email.verified'
    WHEN 'mfa_enabled' THEN 'mfa.enabled'
    WHEN 'mfa_disabled' THEN 'mfa.disabled'
    WHEN 'account_disabled' THEN 'user.disabled'
    WHEN 'user_disabled' THEN 'user.disabled'
    WHEN 'identity_linked' THEN 'identity.linked'
    WHEN 'identity_unlinked' THEN 'identity.unlinked'
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
