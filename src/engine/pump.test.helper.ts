import assert from "node:assert/strict";
import type { NodeId } from "../util/ids.js";
import type { EngineCore, EngineTypes } from "./engine.js";

/**
 * Runs members to quiescence through the seam alone, in no engine's vocabulary: each Ready is
 * taken as persisted at once, its messages are delivered in order, its committed entries recorded.
 */
export function pump<E extends EngineTypes>(
  cores: ReadonlyMap<NodeId, EngineCore<E>>,
  to: (m: E["message"]) => NodeId,
  applied: ReadonlyMap<NodeId, Uint8Array[]>,
): void {
  for (let round = 0; round < 1000; round++) {
    let busy = false;
    for (const [id, core] of cores) {
      if (!core.hasReady()) continue;
      busy = true;
      const ready = core.ready();
      for (const entry of ready.committed) if (entry.kind === "command") applied.get(id)!.push(entry.data);
      core.advance(ready);
      for (const m of [...ready.messages, ...ready.messagesAfterPersist]) cores.get(to(m))?.step(m);
    }
    if (!busy) return;
  }
  assert.fail("no quiescence after 1000 rounds");
}
