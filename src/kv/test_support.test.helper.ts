import { utf8 } from "../util/bytes.js";
import type { LogIndex } from "../util/ids.js";
import { logIndex } from "../util/ids.js";
import type { Prng } from "../util/prng.js";
import type { KvCommand, Session, SessionCommand, TxnCompare, TxnOp } from "./commands.js";
import { encodeCommand } from "./command_codec.js";
import { checkEtcdTxn } from "./etcd_checks.js";
import type { EtcdTxn } from "./etcd_commands.js";
import { randomEtcdTxn } from "./etcd_test_support.test.helper.js";
import type { KvResult } from "./results.js";
import type { KvStore } from "./store.js";

/* Helpers shared by this folder's tests (pure, so they obey the folder's rules like any module). */

export const bytes = (text: string): Uint8Array => utf8(text);

export function putCommand(
  key: string,
  value: string,
  extra: { ifModRevision?: number; session?: Session } = {},
): Uint8Array {
  return encodeCommand({ type: "put", key: bytes(key), value: bytes(value), ...extra });
}

export function deleteCommand(key: string, session?: Session): Uint8Array {
  return encodeCommand(
    session === undefined ? { type: "delete", key: bytes(key) } : { type: "delete", key: bytes(key), session },
  );
}

/** Feeds commands to a store at consecutive indexes after its applied index; returns the results. */
export function applyAll(store: KvStore, commands: readonly Uint8Array[]): KvResult[] {
  return commands.map((command) => store.apply(command, logIndex(store.appliedIndex() + 1)));
}

export function nextIndex(store: KvStore, gap = 1): LogIndex {
  return logIndex(store.appliedIndex() + gap);
}

function randomBytes(prng: Prng, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => prng.int(0, 256));
}

/** A key from a small space (so commands collide), sometimes with bytes ≥ 0x80 or 0xff. */
function randomKey(prng: Prng): Uint8Array {
  const key = randomBytes(prng, prng.int(1, 4));
  for (let i = 0; i < key.length; i++) key[i] = prng.pick([0x00, 0x61, 0x62, 0x7f, 0x80, 0xff]);
  return key;
}

function randomOp(prng: Prng): TxnOp {
  const key = randomKey(prng);
  switch (prng.int(0, 3)) {
    case 0:
      return prng.chance(0.3)
        ? { type: "put", key, value: randomBytes(prng, prng.int(0, 8)), lease: randomLease(prng) }
        : { type: "put", key, value: randomBytes(prng, prng.int(0, 8)) };
    case 1:
      return { type: "get", key };
    default:
      return { type: "delete", key };
  }
}

/** Ops for a txn branch, skipping writes to a key the branch already wrote (invalid, as in etcd). */
function randomOps(prng: Prng): TxnOp[] {
  const ops: TxnOp[] = [];
  const written = new Set<string>();
  for (let i = prng.int(0, 5); i > 0; i--) {
    const op = randomOp(prng);
    const id = op.key.join(",");
    if (op.type !== "get" && written.has(id)) continue;
    if (op.type !== "get") written.add(id);
    ops.push(op);
  }
  return ops;
}

function randomCompare(prng: Prng, revisionMax: number): TxnCompare {
  const key = randomKey(prng);
  const value = randomBytes(prng, prng.int(0, 2));
  const modRevision = prng.int(0, revisionMax + 1);
  switch (prng.int(0, 3)) {
    case 0:
      return { key, value };
    case 1:
      return { key, modRevision };
    default:
      return { key, value, modRevision };
  }
}

/** A random etcd txn that passes etcd's checks. */
export function validEtcdTxn(prng: Prng, revisionMax: number): EtcdTxn {
  for (;;) {
    const txn = randomEtcdTxn(prng, revisionMax);
    if (checkEtcdTxn(txn) === undefined) return txn;
  }
}

/** One of a few lease ids, so that grants, puts and revokes meet. */
function randomLease(prng: Prng): number {
  return prng.int(1, 4);
}

/** A lease or compaction command (those take no session). */
function randomLeaseCommand(prng: Prng, revisionMax: number): KvCommand {
  switch (prng.int(0, 4)) {
    case 0:
      return { type: "leaseGrant", id: randomLease(prng), ttlSeconds: prng.int(1, 100) };
    case 1:
      return { type: "leaseRevoke", id: randomLease(prng) };
    case 2:
      return { type: "leaseCheckpoint", checkpoints: [{ id: randomLease(prng), remainingMs: prng.int(0, 100_000) }] };
    default:
      return { type: "compact", revision: prng.int(0, revisionMax + 1) };
  }
}

/**
 * A valid command of any kind; about half of the key-value commands carry a session from a few
 * clients with nearby seqs.
 */
export function randomCommand(prng: Prng, revisionMax = 20): KvCommand {
  if (prng.chance(0.2)) return randomLeaseCommand(prng, revisionMax);
  const session: Session | undefined = prng.chance(0.5)
    ? { clientId: `c${prng.int(0, 4)}`, seq: prng.int(0, 6) }
    : undefined;
  const withSession = <T extends SessionCommand>(command: T): T =>
    session === undefined ? command : { ...command, session };
  switch (prng.int(0, 4)) {
    case 0:
      return withSession(
        prng.chance(0.3)
          ? { type: "put", key: randomKey(prng), value: randomBytes(prng, prng.int(0, 8)), lease: randomLease(prng) }
          : { type: "put", key: randomKey(prng), value: randomBytes(prng, prng.int(0, 8)) },
      );
    case 1:
      return withSession({
        type: "put",
        key: randomKey(prng),
        value: randomBytes(prng, 3),
        ifModRevision: prng.int(0, revisionMax + 1),
      });
    case 2:
      return withSession({ type: "delete", key: randomKey(prng) });
    default: {
      if (prng.chance(0.25)) return withSession({ type: "etcdTxn", ...validEtcdTxn(prng, revisionMax) });
      const compare = Array.from({ length: prng.int(0, 3) }, () => randomCompare(prng, revisionMax));
      return withSession({ type: "txn", compare, success: randomOps(prng), failure: randomOps(prng) });
    }
  }
}
