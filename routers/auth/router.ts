/** The `auth` router: credential/session procedures and account-lifecycle procedures. */
import { router } from "../../server/trpc.ts";
import { credentialProcedures } from "./credentials.ts";
import { lifecycleProcedures } from "./lifecycle.ts";

export const authRouter = router({
  ...credentialProcedures,
  ...lifecycleProcedures,
});
