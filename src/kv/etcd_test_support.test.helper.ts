import type { Prng } from "../util/prng.js";
import { utf8 } from "../util/bytes.js";
import type { CompareResult, CompareTarget, EtcdCompare, EtcdOp, EtcdRangeOp, EtcdTxn } from "./etcd_commands.js";

/* Builders of etcd txns for this folder's tests, with etcd's defaults for every field not given. */

const none = new Uint8Array(0);
const zero = Uint8Array.of(0);
const b = (text: string): Uint8Array => (text === "\0" ? zero : utf8(text));

export function put(
  key: string,
  value = "",
  extra: { lease?: number; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } = {},
): EtcdOp {
  return {
    type: "put",
    key: b(key),
    value: b(value),
    lease: 0,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
    ...extra,
  };
}

export function del(key: string, end = "", prevKv = false): EtcdOp {
  return { type: "deleteRange", key: b(key), rangeEnd: end === "" ? none : b(end), prevKv };
}

export function get(
  key: string,
  end = "",
  extra: Partial<Omit<EtcdRangeOp, "type" | "key" | "rangeEnd">> = {},
): EtcdOp {
  return {
    type: "range",
    key: b(key),
    rangeEnd: end === "" ? none : b(end),
    limit: 0,
    sortOrder: "none",
    sortTarget: "key",
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...extra,
  };
}

export function cmp(
  key: string,
  target: CompareTarget,
  result: CompareResult,
  operand: string | number,
  end = "",
): EtcdCompare {
  const rangeEnd = end === "" ? none : b(end);
  return target === "value"
    ? { key: b(key), rangeEnd, target, result, value: b(String(operand)) }
    : { key: b(key), rangeEnd, target, result, number: Number(operand) };
}

export function txn(compare: EtcdCompare[], success: EtcdOp[], failure: EtcdOp[] = []): EtcdTxn {
  return { compare, success, failure };
}

export function nested(compare: EtcdCompare[], success: EtcdOp[], failure: EtcdOp[] = []): EtcdOp {
  return { type: "txn", compare, success, failure };
}

const keys = ["a", "b", "c", "ab", "\0"];
const targets: CompareTarget[] = ["version", "create", "mod", "value", "lease"];
const results: CompareResult[] = ["equal", "greater", "less", "notEqual"];

function randomEnd(prng: Prng): string {
  return prng.pick(["", "", "\0", "b", "c", "d"]);
}

/**
 * A random etcd txn over a few keys, possibly invalid (duplicate writes, ignore flags with a value):
 * callers keep the ones checkEtcdTxn accepts.
 */
export function randomEtcdTxn(prng: Prng, revisionMax: number, depth = 0): EtcdTxn {
  const compare = Array.from({ length: prng.int(0, 3) }, () =>
    cmp(
      prng.pick(keys),
      prng.pick(targets),
      prng.pick(results),
      prng.pick(["", "1", "2", String(prng.int(0, revisionMax + 1))]),
      randomEnd(prng),
    ),
  );
  const ops = (): EtcdOp[] =>
    Array.from({ length: prng.int(0, 4) }, () => {
      const roll = prng.int(0, 10);
      const key = prng.pick(keys);
      // Puts spread over more keys than the rest, so that stores grow.
      if (roll < 4)
        return put(
          prng.chance(0.5) ? `${key}${prng.int(0, 30)}` : key,
          prng.chance(0.3) ? "" : String(prng.int(0, 3)),
          {
            lease: prng.chance(0.2) ? prng.int(1, 4) : 0,
            prevKv: prng.chance(0.5),
            ignoreValue: prng.chance(0.15),
            ignoreLease: prng.chance(0.15),
          },
        );
      // Rarely to the end of the key space: such a delete empties most of a small store.
      if (roll < 6)
        return prng.chance(0.8)
          ? del(key, "", prng.chance(0.5))
          : del(prng.pick(["a", "ab", "b"]), prng.chance(0.2) ? "\0" : prng.pick(["b", "c"]), prng.chance(0.5));
      if (roll < 9 || depth >= 2)
        return get(key, randomEnd(prng), {
          limit: prng.int(0, 3),
          keysOnly: prng.chance(0.2),
          countOnly: prng.chance(0.1),
          sortOrder: prng.pick(["none", "ascend", "descend"] as const),
          sortTarget: prng.pick(["key", "version", "create", "mod", "value"] as const),
          minModRevision: prng.chance(0.2) ? prng.int(0, revisionMax + 1) : 0,
        });
      return { type: "txn", ...randomEtcdTxn(prng, revisionMax, depth + 1) };
    });
  return { compare, success: ops(), failure: ops() };
}
