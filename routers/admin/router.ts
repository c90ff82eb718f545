/**
 * The `admin` router: each procedure names its permission with
 * `adminProcedure(permission)` and calls one function of server/.
 */
import { router } from "../../server/trpc.ts";
import { webhookProcedures } from "./webhooks.ts";

export const adminRouter = router({
  ...webhookProcedures,
});
