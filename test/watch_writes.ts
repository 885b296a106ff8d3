/** Writes on a test member, recorded as the changes each watch must report (test/watch_mux.test.ts). */
import assert from "node:assert/strict";
import { request } from "./harness.js";
import type { WatchJson, WatchStream } from "./watch_stream.js";

export type Range =
  { readonly key: string } | { readonly prefix: string } | { readonly from: string; readonly to?: string };

interface Change {
  readonly type: "put" | "delete";
  readonly key: string;
  readonly revision: number;
}

export function inRange(range: Range, key: string): boolean {
  if ("key" in range) return key === range.key;
  if ("prefix" in range) return key.startsWith(range.prefix);
  return key >= range.from && (range.to === undefined || key < range.to);
}

/** type key@revision, for the changes written and the events received alike. */
const describe = (change: Change): string => `${change.type} ${change.key}@${change.revision}`;

/** A watch's events on a stream, described as Writes.expected describes what it must see. */
export function received(stream: WatchStream, watchId: number): string[] {
  return stream.events(watchId).map((e) => {
    const kv = e.kv as { key: string; modRevision: number };
    return describe({ type: e.type as "put" | "delete", key: kv.key, revision: kv.modRevision });
  });
}

/** Each revision of a watch's events came whole in one message, whose revision is its last event's. */
export function assertAtomic(stream: WatchStream, watchId: number): void {
  const messageOf = new Map<number, number>();
  stream.of(watchId).forEach((message, index) => {
    if (!Array.isArray(message.events)) return;
    const revisions = (message.events as WatchJson[]).map((e) => (e.kv as { modRevision: number }).modRevision);
    assert.equal(message.revision, revisions.at(-1), `watch ${watchId}: a message's revision is its last event's`);
    for (const revision of revisions) {
      const seen = messageOf.get(revision);
      assert.ok(seen === undefined || seen === index, `watch ${watchId}: revision ${revision} was split`);
      messageOf.set(revision, index);
    }
  });
}

export class Writes {
  readonly changes: Change[] = [];
  readonly #addr: string;

  constructor(addr: string) {
    this.#addr = addr;
  }

  /** The revision of the last write. */
  get last(): number {
    const change = this.changes.at(-1);
    assert.ok(change !== undefined, "nothing written yet");
    return change.revision;
  }

  async put(key: string, value = "v"): Promise<number> {
    const revision = await this.#write("PUT", `/v1/kv/${key}`, value);
    this.changes.push({ type: "put", key, revision });
    return revision;
  }

  /** Deletes a key that exists (a delete of a missing key makes no change). */
  async delete(key: string): Promise<number> {
    const revision = await this.#write("DELETE", `/v1/kv/${key}`);
    this.changes.push({ type: "delete", key, revision });
    return revision;
  }

  /** One revision: puts, then deletes of keys that exist. */
  async txn(puts: readonly string[], deletes: readonly string[] = []): Promise<number> {
    const success = [
      ...puts.map((key) => ({ put: { key, value: "t" } })),
      ...deletes.map((key) => ({ delete: { key } })),
    ];
    const revision = await this.#write("POST", "/v1/txn", JSON.stringify({ success }));
    for (const key of puts) this.changes.push({ type: "put", key, revision });
    for (const key of deletes) this.changes.push({ type: "delete", key, revision });
    return revision;
  }

  /** What a watch of `range` from revision `from` must have been sent by revision `through`. */
  expected(range: Range, from: number, through = Number.MAX_SAFE_INTEGER): string[] {
    return this.changes
      .filter((c) => c.revision >= from && c.revision <= through && inRange(range, c.key))
      .map(describe);
  }

  async #write(method: string, path: string, body?: string): Promise<number> {
    const r = await request(this.#addr, method, path, body);
    assert.equal(r.status, 200, r.text);
    return (r.body as { revision: number }).revision;
  }
}
