import type { SortOrder, SortTarget } from "./etcd_range.js";
import type { KeyValue } from "./key_value.js";

/*
 * etcd's KV writes as one replicated command: etcd's TxnRequest, with Put and DeleteRange as a txn of
 * no compares and that one op (etcd applies them the same way: the same checks, one revision if
 * anything changed, the same errors). Every field is given (etcd's protobuf defaults where the client
 * set none), so a command has one form and one encoding (etcd_codec.ts). A `rangeEnd` follows etcd:
 * empty for the one key, a single zero byte for every key from `key` on, otherwise the end (excluded).
 */

/** What a compare reads of each key in its range; etcd's Compare.CompareTarget. */
export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";
/** etcd's Compare.CompareResult: how the key's field must relate to the operand. */
export type CompareResult = "equal" | "greater" | "less" | "notEqual";

/**
 * Holds when it holds for every key in its range; with no key there, a value compare fails and the
 * others compare a zero key-value (version, revisions and lease 0), as etcd's applyCompare does.
 */
export type EtcdCompare =
  | {
      readonly key: Uint8Array;
      readonly rangeEnd: Uint8Array;
      readonly target: "value";
      readonly result: CompareResult;
      readonly value: Uint8Array;
    }
  | {
      readonly key: Uint8Array;
      readonly rangeEnd: Uint8Array;
      readonly target: Exclude<CompareTarget, "value">;
      readonly result: CompareResult;
      /** A non-negative safe integer (etcd's int64; raftkv refuses negative operands). */
      readonly number: number;
    };

/** etcd's RangeRequest inside a txn: it reads the state as the txn's earlier ops left it, never a past revision. */
export interface EtcdRangeOp {
  readonly type: "range";
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly limit: number;
  readonly sortOrder: SortOrder;
  readonly sortTarget: SortTarget;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

/**
 * etcd's PutRequest: `lease` 0 detaches the key; `ignoreValue`/`ignoreLease` keep the key's current
 * value/lease (the key must exist, and the request must then carry an empty value/lease 0).
 */
interface EtcdPutOp {
  readonly type: "put";
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease: number;
  readonly prevKv: boolean;
  readonly ignoreValue: boolean;
  readonly ignoreLease: boolean;
}

/** etcd's DeleteRangeRequest. */
interface EtcdDeleteRangeOp {
  readonly type: "deleteRange";
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly prevKv: boolean;
}

/** etcd's TxnRequest: the compares decide the branch; the ops of a branch run in order. */
export interface EtcdTxn {
  readonly compare: readonly EtcdCompare[];
  readonly success: readonly EtcdOp[];
  readonly failure: readonly EtcdOp[];
}

interface EtcdTxnOp extends EtcdTxn {
  readonly type: "txn";
}

export type EtcdOp = EtcdRangeOp | EtcdPutOp | EtcdDeleteRangeOp | EtcdTxnOp;

/** One op's outcome, as etcd's ResponseOp carries it (without the header, which the service adds). */
export type EtcdResponse =
  | { readonly type: "range"; readonly kvs: readonly KeyValue[]; readonly more: boolean; readonly count: number }
  /** `prevKv`: the key's state before, when asked for and the key existed. */
  | { readonly type: "put"; readonly prevKv: KeyValue | null }
  /** `prevKvs`: the deleted key-values, when asked for (in key order). */
  | { readonly type: "deleteRange"; readonly deleted: number; readonly prevKvs: readonly KeyValue[] }
  | { readonly type: "txn"; readonly succeeded: boolean; readonly responses: readonly EtcdResponse[] };
