/**
 * Database work as trace spans (OTEL_EXPORTER_OTLP_ENDPOINT): every statement
 * Prisma sends through its driver adapter, and every raw hot-path query, runs
 * inside `trace(operation, work)`. Used only when tracing is on; otherwise
 * the adapter and the query function are the plain ones.
 *
 * Only the statement's first keyword (SELECT, INSERT, ...) is passed on,
 * never its text or its parameters: parameters carry emails and token
 * hashes, and a span is no place for either.
 */
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery as AdapterQuery, Transaction } from "@prisma/driver-adapter-utils";

/** Runs one statement inside a span named by its operation. */
export type TraceQuery = <T>(operation: string, work: () => Promise<T>) => Promise<T>;

const OPERATIONS = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET"]);

/** The statement's leading keyword when it is a common one, else OTHER (a bounded set of span names). */
function operationOf(sql: string): string {
  const word = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
  return OPERATIONS.has(word) ? word : "OTHER";
}

/** The raw query function (database.ts's `SqlQuery`), traced. */
export function tracedQuery<Q extends (sql: string, params: unknown[]) => Promise<unknown[]>>(query: Q, trace: TraceQuery): Q {
  return ((sql: string, params: unknown[]) => trace(operationOf(sql), () => query(sql, params))) as Q;
}

/**
 * A driver adapter factory whose adapters (and their transactions) trace
 * `queryRaw` and `executeRaw`. Everything else is the adapter's own, called
 * on the adapter itself (its classes keep private fields a proxy cannot reach).
 */
export function tracedAdapter(factory: SqlDriverAdapterFactory, trace: TraceQuery): SqlDriverAdapterFactory {
  return wrap(factory, {
    connect: async () => wrap(await factory.connect(), adapterMethods(trace)),
  });
}

function adapterMethods(trace: TraceQuery): (target: SqlDriverAdapter | Transaction) => Record<string, unknown> {
  return (target) => ({
    queryRaw: (query: AdapterQuery) => trace(operationOf(query.sql), () => target.queryRaw(query)),
    executeRaw: (query: AdapterQuery) => trace(operationOf(query.sql), () => target.executeRaw(query)),
    ...("startTransaction" in target
      ? {
          startTransaction: async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
            wrap(await target.startTransaction(...args), adapterMethods(trace)),
        }
      : {}),
  });
}

/** A proxy answering the given methods, and every other property from the target, bound to it. */
function wrap<T extends object>(target: T, overrides: Record<string, unknown> | ((target: T) => Record<string, unknown>)): T {
  const own = typeof overrides === "function" ? overrides(target) : overrides;
  return new Proxy(target, {
    get(object, property) {
      if (typeof property === "string" && Object.hasOwn(own, property)) return own[property];
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
