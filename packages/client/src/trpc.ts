/**
 * `@gatehouse/client/trpc`: the client's links for a tRPC client of your own
 * (TanStack Query, React Query, custom links). Its declarations import
 * `@trpc/client`, which such an app has installed anyway; the main entry
 * point's do not.
 */
export { gatehouseLinks } from "./links.ts";
