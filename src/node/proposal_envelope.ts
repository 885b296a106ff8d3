import { nodeId, type NodeId } from "../util/ids.js";

/*
 * Every command a RaftNode proposes enters the log wrapped, so that the member that forwarded it to
 * the leader recognises it when it applies the entry and can answer its caller (etcd matches
 * proposals by request ID the same way). Big-endian:
 *   u8 0, command                                  proposed on the leader itself
 *   u8 1, u32 origin, u32 epoch, u32 seq, command  forwarded by member `origin`: its proposal `seq`
 *                                                  of the run identified by `epoch`
 * The epoch is drawn at random when a node starts, so an entry forwarded before a restart is never
 * taken for a proposal made after it.
 */
const local = 0;
const forwarded = 1;
const forwardedHeaderBytes = 13;

/** Who is waiting for a forwarded proposal. */
interface ProposalOrigin {
  readonly origin: NodeId;
  readonly epoch: number;
  readonly seq: number;
}

export function wrapLocal(command: Uint8Array): Uint8Array {
  const data = new Uint8Array(1 + command.length);
  data[0] = local;
  data.set(command, 1);
  return data;
}

export function wrapForwarded(command: Uint8Array, from: ProposalOrigin): Uint8Array {
  const data = new Uint8Array(forwardedHeaderBytes + command.length);
  const view = new DataView(data.buffer);
  view.setUint8(0, forwarded);
  view.setUint32(1, from.origin);
  view.setUint32(5, from.epoch);
  view.setUint32(9, from.seq);
  data.set(command, forwardedHeaderBytes);
  return data;
}

/**
 * The command in an entry and, if it was forwarded, by whom; undefined for bytes no RaftNode wrote
 * (every member decides the same, so such an entry is skipped everywhere alike).
 */
export function unwrap(data: Uint8Array): { command: Uint8Array; from?: ProposalOrigin } | undefined {
  if (data[0] === local) return { command: data.subarray(1) };
  if (data[0] !== forwarded || data.length < forwardedHeaderBytes) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const from = { origin: nodeId(view.getUint32(1)), epoch: view.getUint32(5), seq: view.getUint32(9) };
  return { command: data.subarray(forwardedHeaderBytes), from };
}
