/** The root router: the only place feature routers are put together. */
import { createCallerFactory, router } from "../server/trpc.ts";
import { adminRouter } from "./admin/router.ts";
import { authRouter } from "./auth/router.ts";
import { healthProcedure } from "./health.ts";
import { mfaRouter } from "./mfa/router.ts";
import { passkeyRouter } from "./passkey/router.ts";
import { userRouter } from "./user/router.ts";

export const appRouter = router({
  auth: authRouter,
  user: userRouter,
  mfa: mfaRouter,
  passkey: passkeyRouter,
  admin: adminRouter,
  health: healthProcedure,
});

/** The type frontends import for end-to-end typing. */
export type AppRouter = typeof appRouter;

/** `createCaller(ctx)` for tests and server-side calls, through the whole middleware chain. */
export const createCaller = createCallerFactory(appRouter);
