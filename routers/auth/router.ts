/** The `auth` router: credential/session procedures, account-lifecycle procedures, passwordless and OAuth sign-in, and the live event stream. */
import { router } from "../../server/trpc.ts";
import { credentialProcedures } from "./credentials.ts";
import { eventProcedures } from "./events.ts";
import { lifecycleProcedures } from "./lifecycle.ts";
import { oauthProcedures } from "./oauth.ts";
import { passwordlessProcedures } from "./passwordless.ts";

export const authRouter = router({
  ...credentialProcedures,
  ...lifecycleProcedures,
  ...passwordlessProcedures,
  ...oauthProcedures,
  ...eventProcedures,
});
