-- Passwordless sign-in: magic links and email codes (one-time tokens with an
-- attempt counter), and accounts without a password.

-- AlterEnum
ALTER TYPE "token_purpose" ADD VALUE 'magic_link';
ALTER TYPE "token_purpose" ADD VALUE 'email_code';

-- AlterTable
ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL;

-- AlterTable
ALTER TABLE "one_time_tokens" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0;
