/**
 * Client-side histories of key-value operations, as the linearizability checker reads them.
 *
 * Times are plain numbers supplied by whoever records the history (a simulated clock, a monotonic
 * clock in a fault test); this module never reads a clock. Only their order matters, and two events
 * at the same time count as concurrent (the checker never assumes an order it cannot see).
 */
import { assert, assertNever } from "../util/assert.js";

/**
 * What a client asked for, on one key. Values are strings; `null` stands for "absent".
 * - `get`: read the value.
 * - `put`: write `value`.
 * - `delete`: make the key absent (deleting an absent key is allowed and changes nothing).
 * - `cas`: if the current value equals `expected` (`null` = only if absent), write `value`; otherwise
 *   change nothing. A transaction that touches one key (compare its value, then put or read it) is
 *   recorded as a `cas`, or as a `get` when it only reads.
 */
export type KvOp =
  | { readonly type: "get" }
  | { readonly type: "put"; readonly value: string }
  | { readonly type: "delete" }
  | { readonly type: "cas"; readonly expected: string | null; readonly value: string };

/**
 * - `ok`: the operation took effect exactly once, between its invocation and its completion, and its
 *   result is known (2xx, or a 409 compare failure for a cas: that is an `ok` cas whose result is false).
 * - `fail`: the operation certainly did not take effect (4xx, 503 no_leader/not_ready). The checker drops it.
 * - `unknown`: the operation may have taken effect once at any time after its invocation, even after the
 *   client gave up on it, or never (504, dropped connection, a client that crashed mid-call).
 */
export type Outcome = "ok" | "fail" | "unknown";

/**
 * One operation of a history.
 * Invariants (checked by `validateOperation`): `invokedAt` is a finite number; an `ok` operation has a
 * finite `completedAt` ≥ `invokedAt`; an `ok` get has `result` string|null (null = not found); an `ok`
 * cas has `result` boolean (succeeded). `completedAt` and `result` of `unknown` and `fail` operations are
 * ignored (an unknown operation's effect may land at any time after its invocation).
 */
export interface Operation {
  /** Unique within the history; the checker reports operations by it. */
  readonly id: number;
  readonly client: number | string;
  readonly key: string;
  readonly op: KvOp;
  readonly invokedAt: number;
  /** Finite for `ok`; `Infinity` or `undefined` when the client never learnt the outcome. */
  readonly completedAt?: number | undefined;
  readonly outcome: Outcome;
  /** get → the value read (null = not found); cas → whether it succeeded; nothing for put and delete. */
  readonly result?: string | null | boolean | undefined;
}

export type History = readonly Operation[];

/** Throws an AssertionError naming the operation when it breaks the invariants of `Operation`. */
export function validateOperation(o: Operation): void {
  // The message is built only on failure: histories run to hundreds of thousands of operations.
  const check = (condition: boolean, problem: string): void => {
    if (!condition)
      assert(false, `history operation ${o.id} (${describeOp(o.op)} on ${JSON.stringify(o.key)}): ${problem}`);
  };
  check(Number.isFinite(o.invokedAt), "invokedAt must be a finite number");
  if (o.outcome === "fail" || o.outcome === "unknown") return;
  // Histories come from outside (JSON files, other tools): the type is what this checks.
  check((o.outcome as string) === "ok", "outcome must be ok, fail or unknown");
  const done = o.completedAt;
  check(done !== undefined && Number.isFinite(done), "an ok operation needs a finite completedAt");
  check((done as number) >= o.invokedAt, `completedAt ${done} is before invokedAt ${o.invokedAt}`);
  switch (o.op.type) {
    case "get":
      check(typeof o.result === "string" || o.result === null, "an ok get needs result string|null");
      return;
    case "cas":
      check(typeof o.result === "boolean", "an ok cas needs a boolean result");
      return;
    case "put":
    case "delete":
      return;
    default:
      assertNever(o.op, "operation");
  }
}

/** `put("v")`, `cas(null → "v")`, ... for messages. */
function describeOp(op: KvOp): string {
  switch (op.type) {
    case "get":
      return "get";
    case "put":
      return `put(${JSON.stringify(op.value)})`;
    case "delete":
      return "delete";
    case "cas":
      return `cas(${showValue(op.expected)} → ${JSON.stringify(op.value)})`;
    default:
      return assertNever(op, "operation");
  }
}

/** One line per operation: `#7 client 2 put("a") ok [10, 12]`, with the result when there is one. */
export function describeOperation(o: Operation): string {
  let outcome: string = o.outcome;
  if (o.outcome === "ok" && o.op.type === "get") outcome = `→ ${showValue(o.result as string | null)}`;
  if (o.outcome === "ok" && o.op.type === "cas") outcome = o.result === true ? "→ succeeded" : "→ failed";
  const end = o.outcome === "ok" ? String(o.completedAt) : "∞";
  return `#${o.id} client ${String(o.client)} ${describeOp(o.op)} ${outcome} [${o.invokedAt}, ${end}]`;
}

export function showValue(value: string | null): string {
  return value === null ? "absent" : JSON.stringify(value);
}

/** Returned by `HistoryRecorder.invoke`; pass it back to `complete`. */
interface OpHandle {
  readonly id: number;
}

interface InvokeOptions {
  readonly client: number | string;
  readonly key: string;
  readonly op: KvOp;
  /** The time the request left the client. */
  readonly at: number;
}

interface CompleteOptions {
  readonly outcome: Outcome;
  /** The time the response arrived; may be omitted for `unknown`. */
  readonly at?: number;
  /** As `Operation.result`. */
  readonly result?: string | null | boolean;
}

/**
 * Builds a history as clients run: `invoke` when a request is sent, `complete` when its outcome is
 * known. Operations never completed appear in `history()` as `unknown` (a client that crashed or was
 * stopped mid-call cannot know whether its request took effect). Ids count from 0 in invocation order.
 */
export class HistoryRecorder {
  readonly #ops: Operation[] = [];
  readonly #pending = new Set<number>();

  invoke(options: InvokeOptions): OpHandle {
    const id = this.#ops.length;
    const { client, key, op, at } = options;
    assert(Number.isFinite(at), `invoke: time ${at} must be finite`);
    this.#ops.push({ id, client, key, op, invokedAt: at, outcome: "unknown" });
    this.#pending.add(id);
    return { id };
  }

  complete(handle: OpHandle, options: CompleteOptions): void {
    const invoked = this.#ops[handle.id];
    assert(invoked !== undefined && this.#pending.has(handle.id), `complete: operation ${handle.id} is not pending`);
    const completed: Operation = {
      ...invoked,
      outcome: options.outcome,
      completedAt: options.at ?? Infinity,
      ...(options.result === undefined ? {} : { result: options.result }),
    };
    validateOperation(completed);
    this.#pending.delete(handle.id);
    this.#ops[handle.id] = completed;
  }

  /** Operations invoked but not completed yet. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** A snapshot of the history so far (pending operations as `unknown`). */
  history(): Operation[] {
    return this.#ops.slice();
  }
}
