/** The `auth` router: credential/session procedures, account-lifecycle procedures, and the live event stream. */
import { router } from "../../server/trpc.ts";
import { credentialProcedures } from "./credentials.ts";
import { eventProcedures } from "./events.ts";
import { lifecycleProcedures } from "./lifecycle.ts";

export const authRouter = router({
  ...credentialProcedures,
  ...lifecycleProcedures,
  ...eventProcedures,
});
