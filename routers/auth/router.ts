/** The `auth` router: credential/session procedures, account-lifecycle procedures, passwordless sign-in, and the live event stream. */
import { router } from "../../server/trpc.ts";
import { credentialProcedures } from "./credentials.ts";
import { eventProcedures } from "./events.ts";
import { lifecycleProcedures } from "./lifecycle.ts";
import { passwordlessProcedures } from "./passwordless.ts";

export const authRouter = router({
  ...credentialProcedures,
  ...lifecycleProcedures,
  ...passwordlessProcedures,
  ...eventProcedures,
});
