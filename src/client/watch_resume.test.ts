import assert from "node:assert/strict";
import { test } from "node:test";
import { WatchCompactedError } from "./errors.js";
import type { KeyValue, WatchEvent, WatchMessage } from "./types.js";
import type { CanceledFrame } from "./watch_codec.js";
import { ResumePoint } from "./watch_resume.js";

function put(key: string, revision: number): WatchEvent {
  const kv: KeyValue = {
    key: new TextEncoder().encode(key),
    value: new Uint8Array(),
    keyText: key,
    text: "",
    createRevision: revision,
    modRevision: revision,
    version: 1,
    lease: 0,
  };
  return { type: "put", kv, prevKv: undefined };
}

const canceled = (
  reason: string,
  revisions: { compactRevision?: number; resumeRevision?: number } = {},
): CanceledFrame => ({
  kind: "canceled",
  reason,
  message: "",
  compactRevision: revisions.compactRevision,
  resumeRevision: revisions.resumeRevision,
});

test("without a start revision the watch starts after the first stream's; later streams resume after the last delivered", () => {
  const resume = new ResumePoint(undefined, 3);
  assert.equal(resume.next, undefined, "the first stream asks for new changes only");
  resume.created(41);
  assert.equal(resume.next, 42);
  resume.created(45);
  assert.equal(resume.next, 42, "a reconnection's created says the member's revision, not where the watch is");
  assert.deepEqual(resume.events({ revision: 43, events: [put("a", 42), put("b", 43)] })?.revision, 43);
  assert.equal(resume.next, 44);
});

function modRevisions(message: WatchMessage | undefined): number[] | undefined {
  return message?.type === "events" ? message.events.map((e) => e.kv.modRevision) : undefined;
}

test("events already delivered are dropped, the rest delivered once; a message of only old ones is not delivered", () => {
  const resume = new ResumePoint(10, 1);
  assert.deepEqual(modRevisions(resume.events({ revision: 11, events: [put("a", 10), put("a", 11)] })), [10, 11]);
  assert.equal(resume.events({ revision: 11, events: [put("a", 10), put("a", 11)] }), undefined);
  const partly = resume.events({ revision: 13, events: [put("a", 11), put("b", 12), put("c", 13)] });
  assert.deepEqual(modRevisions(partly), [12, 13]);
  assert.equal(resume.next, 14);
});

test("progress moves the resume point and never reports less than what was delivered", () => {
  const resume = new ResumePoint(5, 2);
  resume.events({ revision: 9, events: [put("a", 9)] });
  assert.deepEqual(resume.progress(20), { type: "progress", revision: 20 });
  assert.equal(resume.next, 21);
  assert.deepEqual(resume.progress(15), { type: "progress", revision: 20 }, "a member behind the earlier ones");
  assert.equal(resume.next, 21);
});

test("slow resumes on the same member at resumeRevision; stopping and unknown reasons on the next", () => {
  const resume = new ResumePoint(1, 3);
  resume.events({ revision: 3, events: [put("a", 3)] });
  assert.equal(resume.canceled(canceled("slow", { resumeRevision: 4 }), "m1"), "same");
  assert.equal(resume.next, 4);
  assert.equal(resume.canceled(canceled("slow", { resumeRevision: 7 }), "m1"), "same");
  assert.equal(resume.next, 7, "revisions up to 6 had no events for this watch");
  assert.equal(resume.canceled(canceled("stopping", { resumeRevision: 2 }), "m1"), "next");
  assert.equal(resume.next, 7, "never back");
  assert.equal(resume.canceled(canceled("something new"), "m1"), "next");
});

test("compacted ends the watch with the compaction revision", () => {
  const resume = new ResumePoint(3, 3);
  assert.throws(
    () => resume.canceled(canceled("compacted", { compactRevision: 50 }), "m1"),
    (e: unknown) =>
      e instanceof WatchCompactedError &&
      e.reason === "compacted" &&
      e.compactRevision === 50 &&
      e.code === "compacted" &&
      /needs revision 3.*compacted its history up to 50/.test(e.message),
  );
});

test("unavailable moves on until every member said it, then ends with the lowest compactRevision", () => {
  const resume = new ResumePoint(3, 3);
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 40 }), "m1"), "next");
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 30 }), "m2"), "next");
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 45 }), "m1"), "next", "m1 twice is one");
  assert.throws(
    () => resume.canceled(canceled("unavailable", { compactRevision: 35 }), "m3"),
    (e: unknown) =>
      e instanceof WatchCompactedError &&
      e.reason === "unavailable" &&
      e.compactRevision === 30 &&
      /no member holds history that far back/.test(e.message),
  );
});

test("unavailable with a resumeRevision (a snapshot under a running watch) resumes there elsewhere", () => {
  const resume = new ResumePoint(3, 2);
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 40, resumeRevision: 9 }), "m1"), "next");
  assert.equal(resume.next, 9);
});

test("progress between unavailable answers starts the count again", () => {
  const resume = new ResumePoint(3, 2);
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 40 }), "m1"), "next");
  resume.events({ revision: 4, events: [put("a", 4)] });
  assert.equal(resume.canceled(canceled("unavailable", { compactRevision: 40 }), "m2"), "next");
});
