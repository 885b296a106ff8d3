import { encodeCommand, type KvCommand, type KvResult } from "../kv/index.js";
import type { RaftNode } from "../node/index.js";

/** What the lessor uses of its member's node. */
export type LessorNode = Pick<RaftNode, "propose" | "readBarrier" | "status">;

/** Proposes a command the lessor built (valid by construction) and resolves with its result once applied here. */
export async function proposeKv(node: LessorNode, command: KvCommand): Promise<KvResult> {
  const result = (await node.propose(encodeCommand(command))) as KvResult;
  if (result.type === "invalid") throw new Error(`the store refused a ${command.type} entry: ${result.error}`);
  return result;
}
