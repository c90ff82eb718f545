/** The caller of an admin procedure as the actor its audit entry names. */
export const actor = (ctx: { user: { id: string }; meta: { ip: string | null; userAgent: string | null } }) => ({ id: ctx.user.id, meta: ctx.meta });
