/*
 * The search's event list: the call and return events of the ok operations in a doubly linked list
 * sorted by time, from which linearising an operation unlinks its two events and backtracking relinks
 * them in O(1) (Knuth's dancing links).
 */
import type { Prepared } from "./model.js";

/** The end of the list. */
export const NIL = -1;

/**
 * The events of the ok operations sorted by time, calls before returns at equal times (equal times
 * overlap): event i < n is the call of op i, n + i its return, and `head` (2n) starts the list.
 */
export function linkEvents(
  ops: readonly Prepared[],
  unknown: Uint8Array,
): { next: Int32Array; prev: Int32Array; head: number } {
  const n = ops.length;
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  const time = (e: number): number => (e < n ? (ops[e] as Prepared).invokedAt : (ops[e - n] as Prepared).returnAt);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (unknown[i] === 0) order.push(i, n + i);
  order.sort((x, y) => time(x) - time(y) || (x < n ? 0 : 1) - (y < n ? 0 : 1) || x - y);
  let last = head;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = NIL;
  prev[head] = NIL;
  return { next, prev, head };
}

/** Unlinks call `e` and its return (dancing links: their own pointers stay for `unlift`). */
export function lift(e: number, n: number, next: Int32Array, prev: Int32Array): void {
  const r = e + n;
  next[prev[e] as number] = next[e] as number;
  prev[next[e] as number] = prev[e] as number;
  const after = next[r] as number;
  next[prev[r] as number] = after;
  if (after !== NIL) prev[after] = prev[r] as number;
}

/** Undoes the matching `lift` (the most recent one still in effect). */
export function unlift(e: number, n: number, next: Int32Array, prev: Int32Array): void {
  const r = e + n;
  const after = next[r] as number;
  next[prev[r] as number] = r;
  if (after !== NIL) prev[after] = r;
  next[prev[e] as number] = e;
  prev[next[e] as number] = e;
}
