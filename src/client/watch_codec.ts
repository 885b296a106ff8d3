/** The messages of a watch stream (docs/coordination.md, "Watch"), decoded at the boundary. */
import { array, decodeKeyValue, DecodeError, integer, object, string, type Json } from "./codec.js";
import type { WatchEvent } from "./types.js";

export type CanceledFrame = Extract<WatchFrame, { kind: "canceled" }>;

export type WatchFrame =
  | { readonly kind: "created"; readonly watchId: number; readonly revision: number }
  | { readonly kind: "events"; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly kind: "progress"; readonly revision: number }
  | {
      readonly kind: "canceled";
      readonly reason: string;
      readonly message: string;
      readonly compactRevision: number | undefined;
      readonly resumeRevision: number | undefined;
    };

function optionalInteger(json: Json, field: string): number | undefined {
  return json[field] === undefined ? undefined : integer(json, field);
}

function decodeEvent(value: unknown): WatchEvent {
  const json = object(value, "an event");
  const type = json["type"];
  if (type !== "put" && type !== "delete") throw new DecodeError('an event\'s "type" is not put or delete');
  const prev = json["prevKv"];
  // A delete's kv has "other fields zero": a server may as well leave them out.
  const kv =
    type === "delete" ? { value: "", createRevision: 0, version: 0, ...object(json["kv"], '"kv"') } : json["kv"];
  return {
    type,
    kv: decodeKeyValue(kv),
    prevKv: prev === undefined || prev === null ? undefined : decodeKeyValue(prev),
  };
}

export function decodeWatchFrame(value: unknown): WatchFrame {
  const json = object(value, "a watch message");
  if (json["canceled"] === true) {
    const message = json["message"];
    return {
      kind: "canceled",
      reason: string(json, "reason"),
      message: typeof message === "string" ? message : "",
      compactRevision: optionalInteger(json, "compactRevision"),
      resumeRevision: optionalInteger(json, "resumeRevision"),
    };
  }
  const revision = integer(json, "revision");
  if (json["created"] === true) return { kind: "created", watchId: integer(json, "watchId"), revision };
  if (json["progress"] === true) return { kind: "progress", revision };
  if (json["events"] !== undefined) {
    return { kind: "events", revision, events: array(json["events"], '"events"').map(decodeEvent) };
  }
  throw new DecodeError("a watch message is not created, events, progress or canceled");
}
