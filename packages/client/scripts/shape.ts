/**
 * Input of scripts/build.ts, never imported at run time: the server's types
 * spelt out as plain structures. The compiler's declaration emit writes each
 * `export declare const` below with its type in full, with no reference to
 * the server's modules, Prisma or zod; build.ts reads those types back and
 * spells `AppRouter` out from them in the shape of tRPC's router type.
 */
import type { AnyTRPCProcedure, AnyTRPCRouter, TRPCRouterRecord } from "@trpc/server";
import type { AppCode, AppRouter, LiveEvent, Permission, Role } from "../src/server-types.ts";

/** `T` written out member by member (a resolved conditional type has no alias to print). */
type Plain<T> = T extends Date
  ? Date
  : T extends (...args: never[]) => unknown
    ? T
    : T extends readonly unknown[]
      ? { [K in keyof T]: Plain<T[K]> }
      : T extends object
        ? { [K in keyof T]: Plain<T[K]> }
        : T;

/** One procedure: its kind, its input and what it answers (a subscription: each value it yields). */
type ProcedureShape<P> = P extends AnyTRPCProcedure
  ? P["_def"]["type"] extends "subscription"
    ? {
        kind: "subscription";
        input: Plain<P["_def"]["$types"]["input"]>;
        yields: Plain<P["_def"]["$types"]["output"] extends AsyncIterable<infer Y> ? Y : never>;
      }
    : { kind: P["_def"]["type"]; input: Plain<P["_def"]["$types"]["input"]>; output: Plain<P["_def"]["$types"]["output"]> }
  : never;

type RecordShape<R> = R extends object
  ? { [K in keyof R]: R[K] extends AnyTRPCProcedure ? ProcedureShape<R[K]> : R[K] extends TRPCRouterRecord ? RecordShape<R[K]> : never }
  : never;

type RootTypes<R extends AnyTRPCRouter> = R["_def"]["_config"]["$types"];

declare function typeOf<T>(): T;

export const router = typeOf<RecordShape<AppRouter["_def"]["record"]>>();
export const errorShape = typeOf<Plain<RootTypes<AppRouter>["errorShape"]>>();
export const meta = typeOf<Plain<RootTypes<AppRouter>["meta"]>>();
export const liveEvent = typeOf<Plain<LiveEvent>>();
export const appCode = typeOf<`${AppCode}`>();
export const permission = typeOf<`${Permission}`>();
export const role = typeOf<`${Role}`>();
