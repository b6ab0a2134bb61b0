import { encodePathSegment } from './core.js';
import {
  OPERATIONS,
  type OperationId,
  SIMULATION_OPERATIONS,
  type SimulationOperationId,
} from './operations.generated.js';

/**
 * The clients' requests are built from `OPERATIONS` and `SIMULATION_OPERATIONS`, which are generated from
 * the server's endpoint table (operations.generated.ts): a client names an operation by its id and never
 * writes a method or a path itself. The APIv3 client uses the first table, the sandbox client the second.
 */

/** Both tables: ids are unique across the endpoint table. */
const ALL_OPERATIONS = { ...OPERATIONS, ...SIMULATION_OPERATIONS };
type AllOperations = typeof ALL_OPERATIONS;
/** The id of any operation, APIv3 or simulation. */
type AnyOperationId = OperationId | SimulationOperationId;

/** The names of `{name}` parameters in a path template. */
type PathParamNames<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParamNames<Rest>
  : never;

/** The path parameters of operation `Id`, by their wire names (`{ stock_id: '…' }`). */
export type PathParams<Id extends AnyOperationId> = Record<PathParamNames<AllOperations[Id]['path']>, string>;

/** `pathOf`'s arguments after the id: the parameters, or nothing for a path without any. */
type PathArgs<Id extends AnyOperationId> = [PathParamNames<AllOperations[Id]['path']>] extends [never]
  ? []
  : [params: PathParams<Id>];

/**
 * The path of operation `id` with each `{name}` replaced by its value, percent-encoded as one path segment
 * (`encodePathSegment`).
 * @example pathOf('getStock', { stock_id: '1 2' }) // '/v3/marketing/busifavor/stocks/1%202'
 */
export function pathOf<Id extends AnyOperationId>(id: Id, ...args: PathArgs<Id>): string {
  const params: Record<string, string> = args[0] ?? {};
  // String(): a caller without types gets what it always got (`undefined` → 'undefined', answered 404).
  return ALL_OPERATIONS[id].path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) =>
    encodePathSegment(String(params[name])),
  );
}

/** A request target: the operation's method and its filled-in path. */
export interface OperationTarget<Method extends string = string> {
  readonly method: Method;
  readonly path: string;
}

/** The method (from the table) and path (`pathOf`) of operation `id`. */
export function operation<Id extends AnyOperationId>(
  id: Id,
  ...args: PathArgs<Id>
): OperationTarget<AllOperations[Id]['method']> {
  return { method: ALL_OPERATIONS[id].method, path: pathOf(id, ...args) };
}
