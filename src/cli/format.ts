/** How results look: human-readable text by default, JSON with --json. */
import type { KeyValue, Member, WatchEvent } from "../client/index.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text when they are valid UTF-8, undefined otherwise. */
function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Text for a human: the UTF-8 text, or `base64:…` for binary. */
export function display(bytes: Uint8Array): string {
  return utf8OrUndefined(bytes) ?? `base64:${base64Of(bytes)}`;
}

/**
 * A key-value in docs/api.md's JSON form: key and value as UTF-8 text, or — when either is not valid
 * UTF-8 — both in base64 with `"encoding": "base64"`, as `?encoding=base64` would return them.
 */
export function kvJson(kv: KeyValue): Record<string, unknown> {
  const key = utf8OrUndefined(kv.key);
  const value = utf8OrUndefined(kv.value);
  const revisions = {
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    // As the server's JSON: only when the key has a lease.
    ...(kv.lease === 0 ? {} : { lease: kv.lease }),
  };
  if (key !== undefined && value !== undefined) return { key, value, ...revisions };
  return { key: base64Of(kv.key), value: base64Of(kv.value), encoding: "base64", ...revisions };
}

/** Left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return [header, ...rows].map(line).join("\n");
}

export function membersTable(members: readonly Member[]): string {
  return table(
    ["ID", "PEER_ADDR", "ROLE"],
    members.map((m) => [m.id, m.peerAddr, m.learner ? "learner" : "voter"]),
  );
}

/** One line, whatever the message holds. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Bytes as one word of a line: bare when that is unambiguous, else a JSON string. */
function word(bytes: Uint8Array): string {
  const text = display(bytes);
  return /^[^\s"]+$/.test(text) ? text : JSON.stringify(text);
}

/** `PUT key value rev=N` or `DELETE key rev=N`, with ` prev=VALUE` when the event has one. */
export function eventLine(event: WatchEvent): string {
  const head =
    event.type === "put" ? `PUT ${word(event.kv.key)} ${word(event.kv.value)}` : `DELETE ${word(event.kv.key)}`;
  const prev = event.prevKv === undefined ? "" : ` prev=${word(event.prevKv.value)}`;
  return `${head} rev=${event.kv.modRevision}${prev}`;
}

/** One event as a JSON line: its type, revision, the key-value after it and, when asked for, before. */
export function eventJson(event: WatchEvent): Record<string, unknown> {
  return {
    type: event.type,
    revision: event.kv.modRevision,
    kv: kvJson(event.kv),
    ...(event.prevKv === undefined ? {} : { prevKv: kvJson(event.prevKv) }),
  };
}
