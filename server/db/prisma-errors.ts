/**
 * Prisma's error codes, checked in one place
 * (https://www.prisma.io/docs/orm/reference/error-reference).
 */
const UNIQUE_VIOLATION = "P2002";
const RECORD_NOT_FOUND = "P2025";

function prismaCodeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** A write refused by a unique constraint (the email, a credential id, a linked identity is taken). */
export function isUniqueViolation(error: unknown): boolean {
  return prismaCodeOf(error) === UNIQUE_VIOLATION;
}

/** An update or delete of a record that no longer exists. */
export function isRecordNotFound(error: unknown): boolean {
  return prismaCodeOf(error) === RECORD_NOT_FOUND;
}
