import type { WatchMessage } from "../coord/index.js";
import type { KvEvent } from "../kv/index.js";
import { storedKvJson, type Encoding } from "./wire.js";

function eventJson(event: KvEvent, encoding: Encoding, prevKv: boolean): Record<string, unknown> {
  const json: Record<string, unknown> = { type: event.type, kv: storedKvJson(event.key, event.kv, encoding) };
  if (prevKv && event.prev !== undefined) json["prevKv"] = storedKvJson(event.key, event.prev, encoding);
  return json;
}

/** docs/coordination.md's message shapes; `created` names the stream, so that more watches can join it. */
export function watchMessageJson(
  message: WatchMessage,
  stream: number,
  encoding: Encoding,
  prevKv: boolean,
): Record<string, unknown> {
  const { watchId } = message;
  switch (message.type) {
    case "created":
      return { created: true, watchId, stream, revision: message.revision };
    case "events":
      return {
        watchId,
        revision: message.revision,
        events: message.events.map((event) => eventJson(event, encoding, prevKv)),
      };
    case "progress":
      return { watchId, revision: message.revision, progress: true };
    case "canceled": {
      const { reason, compactRevision, resumeRevision } = message;
      return {
        watchId,
        canceled: true,
        reason,
        ...(compactRevision === undefined ? {} : { compactRevision }),
        ...(resumeRevision === undefined ? {} : { resumeRevision }),
        message: message.message,
      };
    }
  }
}
