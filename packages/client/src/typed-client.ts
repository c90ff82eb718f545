/**
 * The client's type, written here rather than taken from `@trpc/client`: the
 * published declarations then need nothing but themselves, so a frontend's
 * compiler reads one small file (no tRPC internals, whatever its `lib` and
 * `skipLibCheck`). It is the shape `createTRPCClient` returns: `query` for
 * queries, `mutate` for mutations, `subscribe` for subscriptions, each typed
 * by the router (tests/client-types.test.ts holds the two together).
 */

/** A procedure as the router's type records it (tRPC's `_def`). */
interface ProcedureLike {
  _def: { type: "query" | "mutation" | "subscription"; $types: { input: unknown; output: unknown } };
}

/** Per-call options, as `@trpc/client` takes them. */
export interface GatehouseRequestOptions {
  /** Passed to the links (`op.context`). */
  context?: Record<string, unknown>;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** A running subscription. */
export interface Unsubscribable {
  unsubscribe(): void;
}

/** The callbacks of `subscribe`, as `@trpc/client` calls them. */
export interface GatehouseSubscriptionOptions<TData> extends GatehouseRequestOptions {
  onStarted?: (opts: { context: Record<string, unknown> | undefined }) => void;
  onData?: (value: TData) => void;
  onError?: (err: Error) => void;
  onStopped?: () => void;
  onComplete?: () => void;
  onConnectionStateChange?: (state: { type: "state"; state: "idle" | "connecting" | "pending"; error: Error | null }) => void;
}

/** The arguments of a call: the input may be left out when the procedure takes none. */
type CallArgs<TInput, TOptions> = undefined extends TInput ? [input?: TInput, opts?: TOptions] : void extends TInput ? [input?: undefined, opts?: TOptions] : [input: TInput, opts?: TOptions];

/** What a subscription yields, one value per event. */
type YieldOf<TOutput> = TOutput extends AsyncIterable<infer Y> ? Y : never;

type DecorateProcedure<P extends ProcedureLike> = P["_def"]["type"] extends "query"
  ? { query(...args: CallArgs<P["_def"]["$types"]["input"], GatehouseRequestOptions>): Promise<P["_def"]["$types"]["output"]> }
  : P["_def"]["type"] extends "mutation"
    ? { mutate(...args: CallArgs<P["_def"]["$types"]["input"], GatehouseRequestOptions>): Promise<P["_def"]["$types"]["output"]> }
    : {
        subscribe(
          input: P["_def"]["$types"]["input"],
          opts: GatehouseSubscriptionOptions<YieldOf<P["_def"]["$types"]["output"]>>,
        ): Unsubscribable;
      };

/** A router record decorated for calling, as `createTRPCClient<TRouter>` returns it. */
export type DecorateRecord<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends ProcedureLike ? DecorateProcedure<TRecord[K]> : DecorateRecord<TRecord[K]>;
};

/** What each procedure of a router record answers, by path (like tRPC's `inferRouterOutputs`). */
export type OutputsOf<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends ProcedureLike ? TRecord[K]["_def"]["$types"]["output"] : OutputsOf<TRecord[K]>;
};

/** What each procedure of a router record takes, by path (like tRPC's `inferRouterInputs`). */
export type InputsOf<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends ProcedureLike ? TRecord[K]["_def"]["$types"]["input"] : InputsOf<TRecord[K]>;
};
