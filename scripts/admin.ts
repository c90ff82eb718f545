/**
 * `npm run admin -- grant <email> <role>` / `revoke <email> <role>` / `list`:
 * roles from the command line, against the configured database (DATA_DIR's
 * embedded PGlite, or DATABASE_URL), for the first admin of a fresh install
 * and for recovery. Each change is audited (no actor, reason `npm run admin`)
 * and applies on the user's next request.
 */
import { grantRole } from "../server/admin/roles.ts";
import { isRole, ROLE_NAMES } from "../server/admin/permissions.ts";
import { openDatabase } from "../server/db/database.ts";
import { AppError } from "../server/errors.ts";
import { EnvError, loadEnv } from "../server/env.ts";
import { createLogger } from "../server/log.ts";

const USAGE = `usage: npm run admin -- grant <email> <role> | revoke <email> <role> | list   (roles: ${ROLE_NAMES.join(", ")})`;

async function run([command, email, role, ...rest]: string[]): Promise<void> {
  if (command === "list" ? email !== undefined : (command !== "grant" && command !== "revoke") || !email || !role || rest.length > 0) {
    throw new Error(USAGE);
  }
  if (role !== undefined && !isRole(role)) throw new Error(`unknown role "${role}": the roles are ${ROLE_NAMES.join(", ")}`);
  const config = loadEnv();
  const log = createLogger(config);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, poolSize: 1 });
  try {
    if (command === "list") {
      const users = await db.prisma.user.findMany({ where: { NOT: { roles: { isEmpty: true } } }, orderBy: { email: "asc" }, select: { email: true, roles: true } });
      for (const user of users) console.log(`${user.email}  ${user.roles.join(",")}`);
      if (users.length === 0) console.log("no user holds a role");
      return;
    }
    const result = await grantRole({ prisma: db.prisma, now: () => new Date() }, email!, role!, command === "grant");
    const verb = command === "grant" ? (result.changed ? "granted" : "already holds") : result.changed ? "revoked" : "does not hold";
    console.log(`${result.email}: ${verb} ${role}; roles now: ${result.roles.join(", ") || "(none)"}`);
  } catch (error) {
    if (error instanceof AppError && error.appCode === "LAST_ADMIN") {
      throw new Error(`${email} is the last admin: grant admin to someone else first (LAST_ADMIN)`);
    }
    throw error;
  } finally {
    await db.close();
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof EnvError ? error.message : `admin: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
