import { decodeMessage, encodeMessage, type Message } from "../paxos/basic/index.js";
import { engineWire } from "../transport/index.js";
import type { NodeId } from "../util/ids.js";

/**
 * Basic Paxos messages in the transport's engine-message frames; the hello names the engine. The
 * comparison's simulator (bench/compare/sim_registers.mjs) sends the same frames.
 */
export const basicPaxosWire = engineWire({
  engine: "basic-paxos",
  from: (m: Message): NodeId => m.from,
  to: (m: Message): NodeId => m.to,
  kind: (m: Message): string => m.type,
  encode: encodeMessage,
  decode: (bytes: Uint8Array) => {
    const decoded = decodeMessage(bytes);
    return decoded.ok ? decoded : { ok: false as const, error: decoded.error.message };
  },
});
