/**
 * Malformed input over HTTP and raw TCP against a real 3-process cluster (docs/api.md: "Bad input
 * gets a 4xx and changes nothing … No request, however malformed, stops a node"). Every case goes
 * to the leader and to a follower (a follower refuses what it can check itself, and forwards the
 * rest, e.g. a promote of a voter); after each the user-visible state, the member list and the
 * revision are compared with before, and at the end every node answers and the cluster still has
 * exactly its three voters.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  expectedMembers,
  getJson,
  ProcessCluster,
  rawExchange,
  rawRequest,
  sendTcp,
  sortMembers,
  statusOf,
  until,
  type Member,
  type MemberJson,
  type RawAnswer,
} from "./harness.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const keyMax = 8 * KiB;
const valueMax = 1.5 * MiB;

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** The expected `error` code, when the contract fixes it. */
  readonly code?: string;
  /** A big body the server may refuse before reading it: sent over a bare socket (see rawExchange). */
  readonly early?: boolean;
}

/** Deterministic garbage (xorshift32 from a fixed seed): the same bytes on every run. */
function garbage(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

const jsonType = { "content-type": "application/json" };

function txnCase(name: string, body: string | Uint8Array, status = 400, query = ""): Case {
  return {
    name: `txn: ${name}`,
    method: "POST",
    path: `/v1/txn${query}`,
    body,
    headers: jsonType,
    status,
    early: status === 413,
  };
}

const longKey = "k".repeat(keyMax + 1);

/** POST /v1/members bodies that must get 400 bad_request (or 409 for an existing id at another address). */
function memberAddCases(): Case[] {
  const peerAddr = "127.0.0.1:1";
  const bad = (what: string, body: string, status = 400, code = "bad_request"): Case => ({
    name: `member add: ${what}`,
    method: "POST",
    path: "/v1/members",
    body,
    headers: jsonType,
    status,
    code,
  });
  return [
    bad("not JSON", "not json"),
    bad("not JSON (garbage bytes)", Buffer.from(garbage(128, 21)).toString("latin1")),
    bad("empty body", ""),
    bad("JSON null", "null"),
    bad("a JSON array", json([{ id: "n4", peerAddr }])),
    bad("a JSON string", '"n4"'),
    bad("a JSON number", "4"),
    bad("an empty object", "{}"),
    bad("no id", json({ peerAddr, learner: true })),
    bad("id null", json({ id: null, peerAddr, learner: true })),
    bad("id a number", json({ id: 4, peerAddr, learner: true })),
    bad("id empty", json({ id: "", peerAddr, learner: true })),
    bad("id with a space", json({ id: "n 4", peerAddr, learner: true })),
    bad("id with a slash", json({ id: "n/4", peerAddr, learner: true })),
    bad("id starting with a dash", json({ id: "-n4", peerAddr, learner: true })),
    bad("id over 63 characters", json({ id: "n".repeat(64), peerAddr, learner: true })),
    bad("id not ASCII", json({ id: "nö4", peerAddr, learner: true })),
    bad("id with NUL", json({ id: "n4\u0000", peerAddr, learner: true })),
    bad("no peerAddr", json({ id: "n4", learner: true })),
    bad("peerAddr null", json({ id: "n4", peerAddr: null, learner: true })),
    bad("peerAddr a number", json({ id: "n4", peerAddr: 7004, learner: true })),
    bad("peerAddr empty", json({ id: "n4", peerAddr: "", learner: true })),
    bad("peerAddr without a port", json({ id: "n4", peerAddr: "127.0.0.1", learner: true })),
    bad("peerAddr without a host", json({ id: "n4", peerAddr: ":7004", learner: true })),
    bad("peerAddr port 0", json({ id: "n4", peerAddr: "127.0.0.1:0", learner: true })),
    bad("peerAddr port 65536", json({ id: "n4", peerAddr: "127.0.0.1:65536", learner: true })),
    bad("peerAddr port not a number", json({ id: "n4", peerAddr: "127.0.0.1:http", learner: true })),
    bad("peerAddr with a trailing colon", json({ id: "n4", peerAddr: "127.0.0.1:", learner: true })),
    bad("peerAddr an array", json({ id: "n4", peerAddr: [peerAddr], learner: true })),
    bad('learner "yes"', json({ id: "n4", peerAddr, learner: "yes" })),
    bad('learner "true"', json({ id: "n4", peerAddr, learner: "true" })),
    bad("learner 1", json({ id: "n4", peerAddr, learner: 1 })),
    bad("learner null", json({ id: "n4", peerAddr, learner: null })),
    // An existing member under another address: a conflict, not a second n1.
    bad("an existing id at another address", json({ id: "n1", peerAddr, learner: true }), 409, "already_member"),
    bad(
      "an existing id at another address, as a voter",
      json({ id: "n2", peerAddr, learner: false }),
      409,
      "already_member",
    ),
  ];
}
/** Malformed requests that get a 4xx. Keys used here never exist: any write would show. */
const badCases: Case[] = [
  // Keys.
  { name: "PUT key over 8 KiB", method: "PUT", path: `/v1/kv/${longKey}`, body: "v", status: 400, code: "bad_request" },
  { name: "GET key over 8 KiB", method: "GET", path: `/v1/kv/${longKey}`, status: 400, code: "bad_request" },
  { name: "DELETE key over 8 KiB", method: "DELETE", path: `/v1/kv/${longKey}`, status: 400, code: "bad_request" },
  { name: "PUT bad %-escape", method: "PUT", path: "/v1/kv/bad%zz", body: "v", status: 400, code: "bad_request" },
  { name: "PUT truncated %-escape", method: "PUT", path: "/v1/kv/bad%4", body: "v", status: 400, code: "bad_request" },
  { name: "PUT trailing %", method: "PUT", path: "/v1/kv/bad%", body: "v", status: 400, code: "bad_request" },
  { name: "GET bad %-escape", method: "GET", path: "/v1/kv/bad%zz", status: 400, code: "bad_request" },
  { name: "DELETE bad %-escape", method: "DELETE", path: "/v1/kv/bad%G0", status: 400, code: "bad_request" },
  // Values.
  {
    name: "PUT value over 1.5 MiB",
    method: "PUT",
    path: "/v1/kv/bad-big",
    body: new Uint8Array(valueMax + 1),
    status: 413,
    early: true,
  },
  {
    name: "PUT value over 1.5 MiB, chunked (no content-length)",
    method: "PUT",
    path: "/v1/kv/bad-big-chunked",
    body: new Uint8Array(valueMax + 1),
    headers: { "transfer-encoding": "chunked" },
    status: 413,
    early: true,
  },
  // ifRevision.
  ...["abc", "-1", "1.5", "", "0x10", "1e3", "99999999999999999999", "1,2"].map((v): Case => ({
    name: `PUT ifRevision=${JSON.stringify(v)}`,
    method: "PUT",
    path: `/v1/kv/bad-cas?ifRevision=${v}`,
    body: "v",
    status: 400,
    code: "bad_request",
  })),
  // Encodings and consistency.
  {
    name: "GET unknown encoding",
    method: "GET",
    path: "/v1/kv/bad-encoding?encoding=hex",
    status: 400,
    code: "bad_request",
  },
  {
    name: "range unknown encoding",
    method: "GET",
    path: "/v1/kv?prefix=a&encoding=ebcdic",
    status: 400,
    code: "bad_request",
  },
  {
    name: "GET bad consistency",
    method: "GET",
    path: "/v1/kv/bad-consistency?consistency=strong",
    status: 400,
    code: "bad_request",
  },
  {
    name: "GET empty consistency",
    method: "GET",
    path: "/v1/kv/bad-consistency?consistency=",
    status: 400,
    code: "bad_request",
  },
  {
    name: "range bad consistency",
    method: "GET",
    path: "/v1/kv?prefix=a&consistency=eventual",
    status: 400,
    code: "bad_request",
  },
  // Exactly-once headers.
  {
    name: "PUT Raftkv-Seq without Raftkv-Client-Id",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Seq": "1" },
    status: 400,
    code: "bad_request",
  },
  {
    name: "PUT Raftkv-Client-Id without Raftkv-Seq",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Client-Id": "c1" },
    status: 400,
    code: "bad_request",
  },
  {
    name: "PUT Raftkv-Seq not a number",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Client-Id": "c1", "Raftkv-Seq": "one" },
    status: 400,
    code: "bad_request",
  },
  {
    name: "PUT Raftkv-Seq negative",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Client-Id": "c1", "Raftkv-Seq": "-1" },
    status: 400,
    code: "bad_request",
  },
  {
    name: "PUT Raftkv-Client-Id too long",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Client-Id": "c".repeat(200), "Raftkv-Seq": "1" },
    status: 400,
  },
  {
    name: "PUT Raftkv-Client-Id with a space",
    method: "PUT",
    path: "/v1/kv/bad-session",
    body: "v",
    headers: { "Raftkv-Client-Id": "two words", "Raftkv-Seq": "1" },
    status: 400,
  },
  {
    name: "DELETE Raftkv-Seq without Raftkv-Client-Id",
    method: "DELETE",
    path: "/v1/kv/present",
    headers: { "Raftkv-Seq": "1" },
    status: 400,
    code: "bad_request",
  },
  {
    name: "txn Raftkv-Seq without Raftkv-Client-Id",
    method: "POST",
    path: "/v1/txn",
    body: json({ compare: [], success: [{ put: { key: "bad-session", value: "v" } }] }),
    headers: { ...jsonType, "Raftkv-Seq": "1" },
    status: 400,
    code: "bad_request",
  },
  // Range.
  { name: "range without prefix or from", method: "GET", path: "/v1/kv", status: 400, code: "bad_request" },
  { name: "range with only limit", method: "GET", path: "/v1/kv?limit=5", status: 400, code: "bad_request" },
  { name: "range with only to", method: "GET", path: "/v1/kv?to=b", status: 400, code: "bad_request" },
  {
    name: "range with prefix and from",
    method: "GET",
    path: "/v1/kv?prefix=a&from=b",
    status: 400,
    code: "bad_request",
  },
  ...["0", "10001", "abc", "-1", "", "1.5", "99999999999999999999"].map((v): Case => ({
    name: `range limit=${JSON.stringify(v)}`,
    method: "GET",
    path: `/v1/kv?prefix=a&limit=${v}`,
    status: 400,
    code: "bad_request",
  })),
  { name: "range bad %-escape in prefix", method: "GET", path: "/v1/kv?prefix=%zz", status: 400, code: "bad_request" },
  { name: "range bad %-escape in from", method: "GET", path: "/v1/kv?from=a%", status: 400, code: "bad_request" },
  { name: "range bad %-escape in to", method: "GET", path: "/v1/kv?from=a&to=%g1", status: 400, code: "bad_request" },
  // Txn bodies.
  txnCase("empty body", ""),
  txnCase("not JSON", "{"),
  txnCase("not JSON (garbage bytes)", garbage(256, 7)),
  txnCase("a JSON array", "[]"),
  txnCase("a JSON string", '"txn"'),
  txnCase("JSON null", "null"),
  txnCase("a JSON number", "42"),
  txnCase("compare not an array", json({ compare: {}, success: [] })),
  txnCase("success not an array", json({ compare: [], success: "put" })),
  txnCase("failure not an array", json({ compare: [], failure: { put: { key: "bad-op", value: "v" } } })),
  txnCase("op not an object", json({ success: ["put"] })),
  txnCase("op with no kind", json({ success: [{}] })),
  txnCase("op with two kinds", json({ success: [{ put: { key: "bad-op", value: "v" }, get: { key: "bad-op" } }] })),
  txnCase("unknown op", json({ success: [{ increment: { key: "bad-op" } }] })),
  txnCase(
    "unknown op in failure",
    json({ compare: [{ key: "bad-op", modRevision: 0 }], failure: [{ deleteRange: { key: "bad-op" } }] }),
  ),
  txnCase("op body not an object", json({ success: [{ put: "bad-op" }] })),
  txnCase("put without value", json({ success: [{ put: { key: "bad-op" } }] })),
  txnCase("put value not a string", json({ success: [{ put: { key: "bad-op", value: 5 } }] })),
  txnCase("put without key", json({ success: [{ put: { value: "v" } }] })),
  txnCase("key not a string", json({ success: [{ put: { key: 5, value: "v" } }] })),
  txnCase("get without key", json({ success: [{ get: {} }] })),
  txnCase("empty key", json({ success: [{ put: { key: "", value: "v" } }] })),
  txnCase("key over 8 KiB", json({ success: [{ put: { key: longKey, value: "v" } }] })),
  txnCase(
    "compare without value or modRevision",
    json({ compare: [{ key: "bad-op" }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase(
    "compare without key",
    json({ compare: [{ value: "v" }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase(
    "compare modRevision negative",
    json({ compare: [{ key: "bad-op", modRevision: -1 }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase(
    "compare modRevision a string",
    json({ compare: [{ key: "bad-op", modRevision: "0" }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase(
    "compare modRevision fractional",
    json({ compare: [{ key: "bad-op", modRevision: 0.5 }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase(
    "compare value not a string",
    json({ compare: [{ key: "bad-op", value: 1 }], success: [{ put: { key: "bad-op", value: "v" } }] }),
  ),
  txnCase("compare not an object", json({ compare: ["bad-op"], success: [{ put: { key: "bad-op", value: "v" } }] })),
  txnCase(
    "base64 garbage key",
    json({ success: [{ put: { key: "!!!not base64!!!", value: "dg==" } }] }),
    400,
    "?encoding=base64",
  ),
  txnCase(
    "base64 garbage value",
    json({ success: [{ put: { key: "YmFkLW9w", value: "v" } }] }),
    400,
    "?encoding=base64",
  ),
  txnCase(
    "base64 garbage compare key",
    json({ compare: [{ key: "%%%", modRevision: 0 }], success: [{ put: { key: "YmFkLW9w", value: "dg==" } }] }),
    400,
    "?encoding=base64",
  ),
  txnCase(
    "base64 garbage compare value",
    json({ compare: [{ key: "YmFkLW9w", value: "a" }], success: [{ put: { key: "YmFkLW9w", value: "dg==" } }] }),
    400,
    "?encoding=base64",
  ),
  txnCase("unknown encoding", json({ success: [{ put: { key: "bad-op", value: "v" } }] }), 400, "?encoding=hex"),
  txnCase(
    "more than 128 ops",
    json({ success: Array.from({ length: 129 }, (_, i) => ({ put: { key: `bad-op-${i}`, value: "v" } })) }),
  ),
  txnCase(
    "more than 128 compares",
    json({
      compare: Array.from({ length: 129 }, (_, i) => ({ key: `bad-op-${i}`, modRevision: 0 })),
      success: [{ put: { key: "bad-op", value: "v" } }],
    }),
  ),
  txnCase(
    "put value over 1.5 MiB",
    json({ success: [{ put: { key: "bad-op", value: "v".repeat(valueMax + 1) } }] }),
    413,
  ),
  txnCase("body over 6 MiB", json({ success: [{ put: { key: "bad-op", value: "v".repeat(6 * MiB + 1) } }] }), 413),
  ...[
    ["GET", "/v1/nope"], // unknown routes
    ["GET", "/v2/kv/a"],
    ["GET", "/v1"],
    ["GET", "/v1/status/extra"],
    ["GET", "/metrics/extra"],
    ["POST", "/v1/txn/extra"],
    ["GET", "/favicon.ico"],
    ["GET", "/v1/members/n1/extra"],
    ["POST", "/v1/leader"],
    ["GET", "//%zz"], // a target starting with "//" was once read as a host, and answered 500
  ].map(([method, path]): Case => ({
    name: `unknown route ${method} ${path}`,
    method: method!,
    path: path!,
    status: 404,
  })),
  // Known routes, wrong methods.
  ...[
    ["POST", "/v1/kv/a"],
    ["PATCH", "/v1/kv/a"],
    ["POST", "/v1/kv"],
    ["DELETE", "/v1/kv"],
    ["PUT", "/v1/kv"],
    ["GET", "/v1/txn"],
    ["PUT", "/v1/txn"],
    ["PUT", "/v1/status"],
    ["POST", "/metrics"],
    ["DELETE", "/healthz"],
    ["POST", "/readyz"],
    ["DELETE", "/"],
    ["PUT", "/v1/members"],
    ["GET", "/v1/leader/transfer"],
    ["GET", "/v1/members/n1/promote"],
  ].map(([method, path]): Case => ({
    name: `wrong method ${method} ${path}`,
    method: method!,
    path: path!,
    ...(method === "GET" ? {} : { body: "x" }),
    status: 405,
  })),
  // Membership changes and leader transfer: malformed bodies and ids, unknown members, a promote of a voter.
  // None of these may add, promote or remove anybody (a valid add would: none is here).
  ...memberAddCases(),
  ...[
    ["POST", "/v1/members/n9/promote", 404, "unknown_member"],
    ["DELETE", "/v1/members/n9", 404, "unknown_member"],
    ["POST", "/v1/members/n1/promote", 400, "not_learner"],
    ["POST", "/v1/members/n2/promote", 400, "not_learner"],
    ["POST", "/v1/members/n3/promote", 400, "not_learner"],
    ["DELETE", "/v1/members/%zz", 400, "bad_request"],
    ["POST", "/v1/members/%zz/promote", 400, "bad_request"],
    ["DELETE", "/v1/members/%E0%A4%A", 400, "bad_request"],
    ["DELETE", "/v1/members/bad%20id", 400, "bad_request"],
    ["DELETE", "/v1/members/-n1", 400, "bad_request"],
    ["DELETE", `/v1/members/${"n".repeat(64)}`, 400, "bad_request"],
    ["POST", "/v1/members/bad%2Fid/promote", 400, "bad_request"],
  ].map(([method, path, status, code]): Case => ({
    name: `member route ${method} ${path}`,
    method: method as string,
    path: path as string,
    status: status as number,
    code: code as string,
  })),
  ...[
    ["not JSON", "garbage", 400, "bad_request"],
    ["empty body", "", 400, "bad_request"],
    ["JSON null", "null", 400, "bad_request"],
    ["a JSON array", "[]", 400, "bad_request"],
    ["a JSON string", '"n2"', 400, "bad_request"],
    ['no "to"', "{}", 400, "bad_request"],
    ['"to" misspelt', json({ target: "n2" }), 400, "bad_request"],
    ['"to" a number', json({ to: 2 }), 400, "bad_request"],
    ['"to" null', json({ to: null }), 400, "bad_request"],
    ["to an unknown member", json({ to: "n9" }), 404, "unknown_member"],
    ["to an empty name", json({ to: "" }), 404, "unknown_member"],
  ].map(([what, body, status, code]): Case => ({
    name: `leader transfer: ${what as string}`,
    method: "POST",
    path: "/v1/leader/transfer",
    body: body as string,
    headers: jsonType,
    status: status as number,
    code: code as string,
  })),
];

interface UserState {
  readonly revision: number;
  readonly kvs: unknown;
  readonly members: unknown;
}

describe("bad input against a 3-process cluster", () => {
  let cluster: ProcessCluster;

  before(async () => {
    cluster = await ProcessCluster.start(3);
    const leader = await cluster.leader(30_000);
    // A follower answers 503 until it knows the leader.
    for (const m of cluster.members) {
      await until(
        `a write through ${m.name}`,
        async () => {
          const r = await rawRequest(m.clientAddr, "PUT", "/v1/kv/present", `written via ${m.name}`);
          return r.status === 503
            ? undefined
            : r.status === 200
              ? true
              : assert.fail(`PUT via ${m.name}: ${r.status} ${r.body.toString()}`);
        },
        20_000,
      );
    }
    assert.ok(leader);
  });

  after(async () => {
    await cluster?.stop();
  });

  /** The leader and one follower, as of now. */
  async function targets(): Promise<{ leader: Member; follower: Member }> {
    const leader = await cluster.leader();
    return { leader, follower: cluster.members.find((m) => m !== leader)! };
  }

  /** What a user can see, asked of `via` (the leader, normally; any member answers). */
  async function userState(via?: Member): Promise<UserState> {
    const addr = (via ?? (await cluster.leader())).clientAddr;
    const [range, members] = await Promise.all([
      until("a range of every key", async () => {
        const r = await getJson(addr, "/v1/kv?from=%00&limit=10000");
        return r.status === 503 ? undefined : r;
      }),
      getJson(addr, "/v1/members"),
    ]);
    assert.equal(range.status, 200, JSON.stringify(range.body));
    return { revision: range.body.revision as number, kvs: range.body.kvs, members: members.body.members };
  }

  /** Nothing a user can see changed, the revision included: the cluster itself writes no key. */
  function assertUnchanged(before: UserState, after: UserState, what: string): void {
    assert.deepEqual(after.kvs, before.kvs, `${what} changed the keys`);
    assert.deepEqual(after.members, before.members, `${what} changed the members`);
    assert.equal(after.revision, before.revision, `${what} advanced the revision`);
  }

  function assertError(answer: RawAnswer, c: Case, where: string): void {
    const what = `${c.name} via ${where}`;
    assert.equal(
      answer.status,
      c.status,
      `${what}: expected ${c.status}, got ${answer.status} ${answer.body.toString().slice(0, 300)}`,
    );
    assert.match(String(answer.headers["content-type"]), /^application\/json/, `${what}: content-type`);
    const body = answer.json as { error?: unknown; message?: unknown } | undefined;
    assert.ok(body !== undefined && typeof body === "object", `${what}: the body is JSON`);
    assert.equal(typeof body.error, "string", `${what}: "error" is a string`);
    assert.equal(typeof body.message, "string", `${what}: "message" is a string`);
    if (c.code !== undefined) assert.equal(body.error, c.code, `${what}: error code`);
  }

  /**
   * A case's answer. A 503 or 504 (not served now, or a read or forward that timed out on a slow
   * machine) says nothing about the input, and a case changes nothing whatever its answer, so it
   * is asked again until it gets a verdict on the input itself.
   */
  async function answerOf(target: Member, c: Case): Promise<RawAnswer> {
    const ask = (): Promise<RawAnswer> =>
      c.early === true
        ? rawExchange(
            target.clientAddr,
            c.method,
            c.path,
            typeof c.body === "string" ? Buffer.from(c.body) : c.body!,
            c.headers ?? {},
          )
        : rawRequest(target.clientAddr, c.method, c.path, c.body, c.headers ?? {});
    let last: RawAnswer | undefined;
    try {
      return await until(
        `a verdict on ${c.name}`,
        async () => {
          last = await ask();
          return last.status === 503 || last.status === 504 ? undefined : last;
        },
        20_000,
      );
    } catch (error) {
      if (last === undefined) throw error;
      return last;
    }
  }

  async function assertAllServe(): Promise<void> {
    for (const m of cluster.members) {
      assert.ok(
        m.process !== undefined && m.process.exitCode === null && m.process.signalCode === null,
        `${m.name} is still running: ${m.output}`,
      );
      const s = await getJson(m.clientAddr, "/v1/status");
      assert.equal(s.status, 200, `${m.name} answers its status`);
    }
  }

  it("malformed requests get the right 4xx with {error, message} and change nothing, on the leader and on a follower", async () => {
    const { leader, follower } = await targets();
    const failures: string[] = [];
    for (const target of [leader, follower]) {
      for (const c of badCases) {
        // Every case is tried, and every failure reported, before the test fails.
        try {
          const before = await userState(leader);
          const answer = await answerOf(target, c);
          assertError(answer, c, target === leader ? "the leader" : "a follower");
          assertUnchanged(before, await userState(leader), `${c.name} via ${target.name}`);
        } catch (error) {
          failures.push(
            `${c.name} via ${target.name}: ${error instanceof Error ? error.message.split("\n")[0]! : String(error)}`,
          );
        }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${badCases.length * 2} cases failed`);
    await assertAllServe();
  });

  it("a PUT with an unknown ?encoding is refused before it is applied", async () => {
    const { leader, follower } = await targets();
    for (const target of [leader, follower]) {
      const c: Case = {
        name: "PUT unknown encoding",
        method: "PUT",
        path: `/v1/kv/bad-encoding-${target.name}?encoding=hex`,
        body: "v",
        status: 400,
        code: "bad_request",
      };
      const before = await userState();
      assertError(await answerOf(target, c), c, target.name);
      assertUnchanged(before, await userState(), `${c.name} via ${target.name}`);
    }
  });

  it('an empty key gets 400 bad_request (like Consul\'s "Missing key name"), not a route error', async () => {
    const { leader, follower } = await targets();
    for (const target of [leader, follower]) {
      for (const c of [
        { name: "PUT empty key", method: "PUT", path: "/v1/kv/", body: "v", status: 400, code: "bad_request" },
        { name: "GET empty key", method: "GET", path: "/v1/kv/", status: 400, code: "bad_request" },
        { name: "DELETE empty key", method: "DELETE", path: "/v1/kv/", status: 400, code: "bad_request" },
      ] satisfies Case[]) {
        const before = await userState();
        assertError(await answerOf(target, c), c, target.name);
        assertUnchanged(before, await userState(), c.name);
      }
    }
  });

  it("a 405 names the allowed methods in an Allow header (RFC 9110 §15.5.6)", async () => {
    const { follower } = await targets();
    for (const [method, path, allowed] of [
      ["POST", "/v1/kv/a", ["GET", "PUT", "DELETE"]],
      ["GET", "/v1/txn", ["POST"]],
      ["PUT", "/v1/status", ["GET"]],
    ] as const) {
      const answer = await rawRequest(follower.clientAddr, method, path, method === "GET" ? undefined : "x");
      assert.equal(answer.status, 405);
      const allow = (answer.headers.allow ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      assert.deepEqual(
        new Set(allow),
        new Set(allowed),
        `${method} ${path}: Allow header ${JSON.stringify(answer.headers.allow)}`,
      );
    }
  });

  it("GET /v1/members and /v1/status list exactly the three voters on every node (no case above added anybody)", async () => {
    const expected = expectedMembers(cluster.members);
    for (const m of cluster.members) {
      const r = await getJson(m.clientAddr, "/v1/members");
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body), ["members"]);
      assert.deepEqual(sortMembers(r.body.members as MemberJson[]), expected, `${m.name}: GET /v1/members`);
      assert.deepEqual(sortMembers((await statusOf(m)).members), expected, `${m.name}: GET /v1/status`);
    }
  });

  it("an add of a member at its own address and a transfer to the current leader are idempotent: 200, nothing changes", async () => {
    const { leader, follower } = await targets();
    const expected = expectedMembers(cluster.members);
    for (const target of [leader, follower]) {
      for (const m of cluster.members) {
        const before = await userState(leader);
        const r = await rawRequest(
          target.clientAddr,
          "POST",
          "/v1/members",
          json({ id: m.name, peerAddr: m.peerAddr }),
          jsonType,
        );
        assert.equal(r.status, 200, `re-adding ${m.name} via ${target.name}: ${r.body.toString()}`);
        assert.deepEqual(
          sortMembers((r.json as { members: MemberJson[] }).members),
          expected,
          `re-adding ${m.name} via ${target.name}`,
        );
        assertUnchanged(before, await userState(leader), `re-adding ${m.name} via ${target.name}`);
      }
      const before = await userState(leader);
      const r = await rawRequest(target.clientAddr, "POST", "/v1/leader/transfer", json({ to: leader.name }), jsonType);
      assert.equal(r.status, 200, `transfer to the leader via ${target.name}: ${r.body.toString()}`);
      assert.deepEqual(r.json, { leader: leader.name });
      assertUnchanged(before, await userState(leader), `a transfer to the leader via ${target.name}`);
      assert.equal((await cluster.leader()).name, leader.name);
    }
  });

  it("the boundaries are accepted: a key of exactly 8 KiB, a value of exactly 1.5 MiB", async () => {
    const { follower } = await targets();
    const key = "b".repeat(keyMax);
    const put = await rawRequest(follower.clientAddr, "PUT", `/v1/kv/${key}`, "at the key limit");
    assert.equal(put.status, 200, put.body.toString());
    const get = await rawRequest(follower.clientAddr, "GET", `/v1/kv/${key}`);
    assert.equal(get.status, 200);
    assert.equal((get.json as { value: string }).value, "at the key limit");
    const value = garbage(valueMax, 99);
    const big = await rawRequest(follower.clientAddr, "PUT", "/v1/kv/at-the-value-limit", value);
    assert.equal(big.status, 200, big.body.toString());
    const back = await rawRequest(follower.clientAddr, "GET", "/v1/kv/at-the-value-limit?raw");
    assert.equal(back.status, 200);
    assert.ok(Buffer.from(value).equals(back.body), "the 1.5 MiB value comes back byte for byte");
    await rawRequest(follower.clientAddr, "DELETE", "/v1/kv/at-the-value-limit");
    await rawRequest(follower.clientAddr, "DELETE", `/v1/kv/${key}`);
  });

  it("?raw returns the exact bytes; ?encoding=base64 round-trips a value that is not UTF-8", async () => {
    const { leader, follower } = await targets();
    const bytes = new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x0d, 0x22, 0x5c, 0xc3, 0x28]);
    assert.equal((await rawRequest(follower.clientAddr, "PUT", "/v1/kv/raw-bytes", bytes)).status, 200);
    for (const m of [leader, follower]) {
      const raw = await rawRequest(m.clientAddr, "GET", "/v1/kv/raw-bytes?raw");
      assert.equal(raw.status, 200);
      assert.ok(Buffer.from(bytes).equals(raw.body), `${m.name}: ?raw gives ${raw.body.toString("hex")}`);
    }

    const notUtf8 = new Uint8Array([0xff, 0xfe]);
    assert.equal((await rawRequest(follower.clientAddr, "PUT", "/v1/kv/not-utf8", notUtf8)).status, 200);
    const encoded = await rawRequest(leader.clientAddr, "GET", "/v1/kv/not-utf8?encoding=base64");
    assert.equal(encoded.status, 200);
    const kv = encoded.json as { key: string; value: string; version: number };
    assert.equal(kv.value, "//4=");
    assert.equal(kv.key, Buffer.from("not-utf8").toString("base64"));
    assert.ok(Buffer.from(kv.value, "base64").equals(Buffer.from(notUtf8)));

    // And back in: a txn in base64 writes the same bytes under a non-UTF-8 key.
    const keyBytes = Buffer.from([0xfe, 0x01, 0xff]);
    const txn = await rawRequest(
      follower.clientAddr,
      "POST",
      "/v1/txn?encoding=base64",
      json({
        compare: [{ key: keyBytes.toString("base64"), modRevision: 0 }],
        success: [{ put: { key: keyBytes.toString("base64"), value: kv.value } }],
      }),
      jsonType,
    );
    assert.equal(txn.status, 200, txn.body.toString());
    assert.equal((txn.json as { succeeded: boolean }).succeeded, true);
    const again = await rawRequest(leader.clientAddr, "GET", "/v1/kv/%FE%01%FF?raw");
    assert.equal(again.status, 200);
    assert.ok(again.body.equals(Buffer.from(notUtf8)));
    const listed = await rawRequest(leader.clientAddr, "GET", "/v1/kv?prefix=%FE&encoding=base64");
    assert.deepEqual(
      (listed.json as { kvs: { key: string; value: string }[] }).kvs.map((x) => [x.key, x.value]),
      [[keyBytes.toString("base64"), "//4="]],
    );
  });

  it("a key may start with a NUL byte, and the cluster keeps no key of its own there", async () => {
    const { leader, follower } = await targets();
    const listNulPrefix = async (via: Member): Promise<string[]> => {
      const r = await rawRequest(via.clientAddr, "GET", "/v1/kv?prefix=%00&encoding=base64");
      assert.equal(r.status, 200, r.body.toString());
      return (r.json as { kvs: { key: string }[] }).kvs.map((x) => Buffer.from(x.key, "base64").toString("latin1"));
    };
    assert.deepEqual(await listNulPrefix(follower), [], "nothing under the NUL prefix before a user writes there");
    assert.equal((await rawRequest(follower.clientAddr, "PUT", "/v1/kv/%00nul-first", "v")).status, 200);
    assert.deepEqual(await listNulPrefix(leader), ["\u0000nul-first"]);
    assert.equal((await rawRequest(leader.clientAddr, "DELETE", "/v1/kv/%00nul-first")).status, 200);
    assert.deepEqual(await listNulPrefix(follower), []);
  });

  it("/healthz, /readyz, /metrics and / answer on every node", async () => {
    await cluster.leader();
    for (const m of cluster.members) {
      const health = await rawRequest(m.clientAddr, "GET", "/healthz");
      assert.equal(health.status, 200, `${m.name} /healthz`);
      await until(`${m.name} /readyz`, async () =>
        (await rawRequest(m.clientAddr, "GET", "/readyz")).status === 200 ? true : undefined,
      );
      const metrics = await rawRequest(m.clientAddr, "GET", "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers["content-type"]), /^text\/plain/);
      const text = metrics.body.toString();
      assert.match(text, /^# HELP raftkv_server_term /m);
      assert.match(text, /^# TYPE raftkv_server_term gauge$/m);
      assert.match(text, /^raftkv_server_term \d+$/m);
      assert.match(text, /^# TYPE raftkv_disk_wal_fsync_duration_seconds histogram$/m);
      assert.match(text, /^raftkv_disk_wal_fsync_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
      assert.match(text, /^raftkv_disk_wal_fsync_duration_seconds_count \d+$/m);
      const page = await rawRequest(m.clientAddr, "GET", "/");
      assert.equal(page.status, 200);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assert.match(page.body.toString(), /^<!doctype html>/i);
      assert.match(page.body.toString(), new RegExp(m.name));
    }
  });

  it("garbage on the raw client and peer sockets does not stop a node", async () => {
    const { leader, follower } = await targets();
    const before = await userState();
    const http = (text: string): Uint8Array => Buffer.from(text.replace(/\n/g, "\r\n"));
    const hugeLength = 100 * 1000 * 1000;
    const clientGarbage: Uint8Array[][] = [
      [garbage(4096, 1)],
      [http("GET / HTTP/1.1\nHost: x\n"), garbage(1024, 2)],
      [http(`PUT /v1/kv/bad-huge HTTP/1.1\nHost: x\nContent-Length: ${hugeLength}\n\n`), garbage(64 * 1024, 3)],
      [
        http(
          `POST /v1/txn HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${hugeLength}\n\n{"success":[`,
        ),
      ],
      [http(`POST /v1/members HTTP/1.1\nHost: x\nContent-Length: ${hugeLength}\n\n`), garbage(1024, 4)],
      [http(`GET /v1/kv/present HTTP/1.1\nHost: x\nContent-Length: ${hugeLength}\n\n`)],
      [
        http("PUT /v1/kv/bad-chunked HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\nffffffffffff\n"),
        garbage(1024, 5),
      ],
      [http(`GET /v1/kv/${"x".repeat(100 * 1024)} HTTP/1.1\nHost: x\n\n`)],
      [http(`GET / HTTP/1.1\nHost: x\nX-Big: ${"y".repeat(100 * 1024)}\n\n`)],
      [http("GET / HTTP/9.9\n\n")],
    ];
    const frame = (length: number, payload: Uint8Array): Uint8Array => {
      const out = new Uint8Array(4 + payload.length);
      new DataView(out.buffer).setUint32(0, length);
      out.set(payload, 4);
      return out;
    };
    const peerGarbage: Uint8Array[][] = [
      [garbage(4096, 11)],
      [http(`PUT /raft HTTP/1.1\nHost: x\nContent-Length: ${hugeLength}\n\n`), garbage(1024, 12)],
      [frame(0, new Uint8Array(0))],
      [frame(0xffffffff, garbage(64, 13))],
      [frame(64 * 1024 * 1024, garbage(64 * 1024, 14))],
      [frame(200, garbage(200, 15))],
      [frame(3, new Uint8Array([1, 2, 3]))],
    ];
    for (const target of [leader, follower]) {
      for (const chunks of clientGarbage) await sendTcp(target.clientAddr, chunks);
      for (const chunks of peerGarbage) await sendTcp(target.peerAddr, chunks);
      // Many at once, left open while the node is asked to serve, then closed.
      await Promise.all([
        ...clientGarbage.map((chunks) => sendTcp(target.clientAddr, chunks)),
        ...peerGarbage.map((chunks) => sendTcp(target.peerAddr, chunks)),
        (async () => {
          const s = await getJson(target.clientAddr, "/v1/status");
          assert.equal(s.status, 200, `${target.name} answers while being sent garbage`);
        })(),
      ]);
    }
    await assertAllServe();
    assertUnchanged(before, await userState(), "garbage on the sockets");
    // And the cluster still replicates, through each node that got the garbage.
    for (const target of [leader, follower]) {
      const put = await until(`a write through ${target.name}`, async () => {
        const r = await rawRequest(target.clientAddr, "PUT", `/v1/kv/after-garbage-${target.name}`, "ok");
        return r.status === 503 ? undefined : r;
      });
      assert.equal(put.status, 200, put.body.toString());
      for (const m of cluster.members) {
        const r = await rawRequest(m.clientAddr, "GET", `/v1/kv/after-garbage-${target.name}?raw`);
        assert.equal(r.status, 200, `${m.name} reads the write made through ${target.name}`);
        assert.equal(r.body.toString(), "ok");
      }
    }
  });
});
