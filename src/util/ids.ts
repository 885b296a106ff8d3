import { assert } from "./assert.js";

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

/*
 * The constructors check their range: a negative or fractional term or index is always a bug
 * (decoders check untrusted numbers first and refuse them as malformed).
 */
export function term(n: number): Term {
  assert(isNonNegativeInteger(n), `term ${n} is not a non-negative safe integer`);
  return n as Term;
}

export function logIndex(n: number): LogIndex {
  assert(isNonNegativeInteger(n), `log index ${n} is not a non-negative safe integer`);
  return n as LogIndex;
}

export function nodeId(n: number): NodeId {
  assert(isNonNegativeInteger(n), `node id ${n} is not a non-negative safe integer`);
  return n as NodeId;
}

export const NO_NODE = 0 as NodeId;

export function isNonNegativeInteger(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}
