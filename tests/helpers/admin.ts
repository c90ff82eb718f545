/** Users with roles, for the admin tests: registered through the API, roles granted as `npm run admin` does. */
import { changeRoles } from "../../server/admin/roles.ts";
import type { Role } from "../../server/admin/permissions.ts";
import type { Services } from "../../server/services.ts";
import { callerFor, newAccount } from "./caller.ts";

/** A signed-in user holding `roles`, with a caller bound to its access token. */
export async function userWithRoles(services: Services, roles: Role[] = [], overrides: Parameters<typeof newAccount>[0] = {}) {
  const account = newAccount(overrides);
  const result = await callerFor(services).auth.register(account);
  if (roles.length > 0) await changeRoles(services, result.user.id, () => roles, { id: null, meta: { ip: null, userAgent: null } });
  return { account, id: result.user.id, token: result.accessToken, refreshToken: result.refreshToken, caller: callerFor(services, { token: result.accessToken }) };
}
