/**
 * Branded numbers keep the paper's nouns apart at compile time: a Term cannot be passed where a
 * LogIndex is expected. At runtime they are plain non-negative safe integers.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An election term; starts at 0 and only grows on a node. */
export type Term = Brand<number, "Term">;
/** A position in the replicated log; 0 means "before the first entry". */
export type LogIndex = Brand<number, "LogIndex">;
/** A cluster member's identity, stable across restarts; never 0 (0 means "none"). */
export type NodeId = Brand<number, "NodeId">;

export const term = (n: number): Term => n as Term;
export const logIndex = (n: number): LogIndex => n as LogIndex;
export const nodeId = (n: number): NodeId => n as NodeId;

export const NO_NODE = 0 as NodeId;

export function isNonNegativeInteger(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}
