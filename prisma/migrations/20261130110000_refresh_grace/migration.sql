-- Refresh grace window (REFRESH_REUSE_GRACE): the sealed successor of each rotation, kept for the window only.
-- CreateTable
CREATE TABLE "refresh_grace" (
    "token_id" UUID NOT NULL,
    "successor_sealed" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "refresh_grace_pkey" PRIMARY KEY ("token_id")
);

-- CreateIndex
CREATE INDEX "refresh_grace_expires_at_idx" ON "refresh_grace"("expires_at");

-- AddForeignKey
ALTER TABLE "refresh_grace" ADD CONSTRAINT "refresh_grace_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "refresh_tokens"("id") ON DELETE CASCADE ON UPDATE CASCADE;

