import type { EtcdOp, EtcdTxn } from "./etcd_commands.js";
import { etcdSpan } from "./etcd_range.js";
import { keySpan, type KeySpan } from "./key_span.js";

/** Whether the principal may read or write every key of a span. */
type MaySpan = (access: "read" | "write", span: KeySpan) => boolean;

/**
 * etcd's rule for a txn (its CheckTxnAuth), nested txns included, both branches whichever runs: read
 * on every compare's range and every Range op's, write on every Put's key and DeleteRange's range, and
 * read as well where a Put or DeleteRange asks for the previous key-values. A Put naming a lease
 * needs write on every key already attached to it too (etcd's checkLeasePuts: the key would share
 * their fate), `leaseKeys` listing them (binary strings).
 */
export function etcdTxnPermitted(may: MaySpan, txn: EtcdTxn, leaseKeys: LeaseKeys): boolean {
  const allowed = (op: EtcdOp): boolean => opPermitted(may, op, leaseKeys);
  return (
    txn.compare.every((c) => may("read", etcdSpan(c.key, c.rangeEnd))) &&
    txn.success.every(allowed) &&
    txn.failure.every(allowed)
  );
}

type LeaseKeys = (lease: number) => readonly string[];

function opPermitted(may: MaySpan, op: EtcdOp, leaseKeys: LeaseKeys): boolean {
  switch (op.type) {
    case "range":
      return may("read", etcdSpan(op.key, op.rangeEnd));
    case "put": {
      const span = etcdSpan(op.key, undefined);
      return (
        may("write", span) &&
        (!op.prevKv || may("read", span)) &&
        (op.lease === 0 || leaseKeys(op.lease).every((key) => may("write", keySpan(key))))
      );
    }
    case "deleteRange": {
      const span = etcdSpan(op.key, op.rangeEnd);
      return may("write", span) && (!op.prevKv || may("read", span));
    }
    case "txn":
      return etcdTxnPermitted(may, op, leaseKeys);
  }
}
