/** Reading a raftkv/client watch in the process-level tests, each read bounded by a deadline. */
import type { Watch, WatchEvent } from "raftkv/client";
import { withDeadline } from "./harness.js";

/** The events a watch delivers until a message at `revision` or later has come. */
export async function eventsThrough(watch: Watch, revision: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const read = (async () => {
    for await (const message of watch) {
      if (message.type === "events") events.push(...message.events);
      if (message.revision >= revision) return;
    }
  })();
  await withDeadline(read, 30_000, `watch events through revision ${revision} (got ${events.length})`);
  return events;
}

/** `put KEY=VALUE prev=…` / `delete KEY prev=…`, for comparing event sequences at a glance. */
export const described = (events: readonly WatchEvent[]): string[] =>
  events.map(
    (e) => `${e.type} ${e.kv.keyText}${e.type === "put" ? `=${e.kv.text}` : ""} prev=${e.prevKv?.text ?? "-"}`,
  );
