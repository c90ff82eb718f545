/** The one shape of the public "mail me something" procedures: an email in, the same success out for any email. */
import type { AuthDeps, RequestMeta } from "../../server/deps.ts";
import type { MailDeps } from "../../server/mail/account-mail.ts";
import { publicProcedure } from "../../server/trpc.ts";
import { EmailInput, SuccessOutput } from "./schema.ts";
import { succeed } from "../success.ts";

/** A domain function that mails the address (when it names a user) and answers that user's id, for the audit line. */
type SendMail = (deps: AuthDeps & MailDeps, email: string, meta: RequestMeta, requestId: string | null) => Promise<string | null>;

export function mailRequest(summary: string, send: SendMail) {
  return publicProcedure
    .meta({ summary })
    .input(EmailInput)
    .output(SuccessOutput)
    .mutation(
      succeed(async ({ ctx, input }) => {
        ctx.audit.userId = await send(ctx.services, input.email, ctx.meta, ctx.requestId);
      }),
    );
}
