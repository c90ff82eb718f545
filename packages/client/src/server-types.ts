/**
 * The only module of the client that reads the server's types. In this
 * repository they come from the source; the published package replaces this
 * module's declarations with a generated, self-contained copy of them
 * (scripts/build.ts), so a frontend never type-checks server code.
 */
export type { AppRouter } from "../../../routers/_app.ts";
export type { Permission, Role } from "../../../server/admin/permissions.ts";
export type { AppCode } from "../../../server/errors.ts";
export type { LiveEvent } from "../../../server/events/live-event.ts";
