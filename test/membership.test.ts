/**
 * Membership changes at runtime against real `raftkv serve` processes (docs/api.md, "Command line" --join, §2
 * /v1/members and /v1/leader/transfer): grow 3 → 5 and shrink 5 → 3 under write load, removing the
 * leader, replacing a member with a fresh one, transferring leadership to every voter, learners
 * and their promotion, concurrent changes, refusals, and the CLI's member commands. Waits are polls
 * with generous deadlines; what is asserted is never "it happened within a fixed sleep".
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { RaftkvClient } from "raftkv/client";
import {
  expectedMembers,
  membersOf,
  ProcessCluster,
  request,
  runCli,
  sortMembers,
  statusOf,
  until,
  withDeadline,
  Writer,
  type Member,
  type MemberJson,
} from "./harness.js";
import { fixedEnsemble } from "./engine_under_test.js";

const run = randomBytes(4).toString("hex");
/** A membership change waits for catch-up and the joint configuration to be left: allow for it. */
const changeTimeoutMs = 30_000;
const testTimeoutMs = 120_000;

type Answer = Awaited<ReturnType<typeof request>>;

/**
 * Sends a request until it gets an answer other than 503 (no leader / not ready: definitely not
 * applied, so asking again is safe), and returns that answer.
 */
async function definite(what: string, send: () => Promise<Answer>, timeoutMs = changeTimeoutMs): Promise<Answer> {
  const refused: string[] = [];
  const answer = await until(
    what,
    async () => {
      const r = await send();
      if (r.status === 503) {
        refused.push(r.text);
        throw new Error(`${r.status} ${r.text}`);
      }
      return r;
    },
    timeoutMs,
  );
  // Worth seeing when a change needed retries: each 503 was a leader change or a leader not heard from yet.
  if (refused.length > 0)
    console.log(
      `${what}: ${refused.length} × 503 first (${refused[0]}), then ${answer.status} ${answer.text.slice(0, 200)}`,
    );
  return answer;
}

const jsonType = { "content-type": "application/json" };

function addMember(via: Member, m: Member, learner?: boolean): Promise<Answer> {
  const body = JSON.stringify({ id: m.name, peerAddr: m.peerAddr, ...(learner === undefined ? {} : { learner }) });
  return definite(`POST /v1/members ${m.name} via ${via.name}`, () =>
    request(via.clientAddr, "POST", "/v1/members", body, jsonType, changeTimeoutMs),
  );
}

function removeMember(via: Member, name: string): Promise<Answer> {
  return definite(`DELETE /v1/members/${name} via ${via.name}`, () =>
    request(via.clientAddr, "DELETE", `/v1/members/${name}`, undefined, {}, changeTimeoutMs),
  );
}

function promoteMember(via: Member, name: string): Promise<Answer> {
  return definite(`POST /v1/members/${name}/promote via ${via.name}`, () =>
    request(via.clientAddr, "POST", `/v1/members/${name}/promote`, undefined, {}, changeTimeoutMs),
  );
}

function transfer(via: Member, to: string): Promise<Answer> {
  return definite(`POST /v1/leader/transfer to ${to} via ${via.name}`, () =>
    request(via.clientAddr, "POST", "/v1/leader/transfer", JSON.stringify({ to }), jsonType, changeTimeoutMs),
  );
}

/** Asserts a 200 whose member list is `expected`. */
function assertMembersAnswer(r: Answer, expected: readonly MemberJson[], what: string): void {
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
  assert.deepEqual(
    sortMembers((r.body as { members: MemberJson[] }).members),
    expected,
    `${what}: the answered member list`,
  );
}

/** Asserts a 4xx with the given error code. */
function assertRefused(r: Answer, status: number, code: string, what: string): void {
  assert.equal(r.status, status, `${what}: expected ${status} ${code}, got ${r.status} ${r.text}`);
  assert.equal((r.body as { error: string }).error, code, `${what}: ${r.text}`);
  assert.equal(typeof (r.body as { message: unknown }).message, "string", `${what}: a message`);
}

function names(members: readonly Member[]): string {
  return members.map((m) => m.name).join(",");
}

/** Waits until every one of `nodes` lists exactly `expected` in GET /v1/members (and in its status). */
async function waitMembers(
  nodes: readonly Member[],
  expected: readonly MemberJson[],
  timeoutMs = 20_000,
): Promise<void> {
  await until(
    `${names(nodes)} to list ${JSON.stringify(expected.map((m) => `${m.id}${m.learner ? "(learner)" : ""}`))}`,
    async () => {
      for (const m of nodes) {
        const [listed, status] = await Promise.all([membersOf(m), statusOf(m)]);
        if (JSON.stringify(listed) !== JSON.stringify(expected))
          throw new Error(`${m.name} lists ${JSON.stringify(listed)}`);
        if (JSON.stringify(sortMembers(status.members)) !== JSON.stringify(expected))
          throw new Error(`${m.name}'s status lists ${JSON.stringify(status.members)}`);
      }
      return true;
    },
    timeoutMs,
  );
}

/**
 * Waits until every one of `nodes` has named `leader` as the leader and `leader` has said it leads
 * (each seen at least once: under a loaded machine a spontaneous election may follow at any time,
 * which is not what is being checked).
 */
async function waitLeader(nodes: readonly Member[], leader: Member, timeoutMs = 20_000): Promise<void> {
  const seen = new Set<string>();
  let leads = !nodes.includes(leader);
  await until(
    `${names(nodes)} each to name ${leader.name} as leader`,
    async () => {
      const statuses = await Promise.all(nodes.map(statusOf));
      for (const s of statuses) if (s.leader === leader.name) seen.add(s.id);
      leads ||= statuses.some((s) => s.id === leader.name && s.role === "leader");
      const missing = statuses.filter((s) => !seen.has(s.id));
      if (missing.length > 0 || !leads) {
        throw new Error(
          `${leads ? "" : `${leader.name} has not said it leads; `}${missing.map((s) => `${s.id} names ${s.leader} (${s.role}, term ${s.term})`).join("; ")}`,
        );
      }
      return true;
    },
    timeoutMs,
  );
}

/** Waits until all of `nodes` name one leader that is one of them and says it leads; returns it. */
async function agreedLeader(nodes: readonly Member[], timeoutMs = 20_000): Promise<Member> {
  return until(
    `${names(nodes)} to agree on a leader among themselves`,
    async () => {
      const statuses = await Promise.all(nodes.map(statusOf));
      const named = new Set(statuses.map((s) => s.leader));
      const leader = nodes.find((m) => named.size === 1 && named.has(m.name));
      if (leader === undefined || statuses.find((s) => s.id === leader.name)?.role !== "leader") {
        throw new Error(statuses.map((s) => `${s.id} names ${s.leader} (${s.role}, term ${s.term})`).join("; "));
      }
      return leader;
    },
    timeoutMs,
  );
}

function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Every key under `prefix`, read linearizably from `m` alone (paged). */
async function readAll(m: Member, prefix: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let from = prefix;
  for (;;) {
    const path = `/v1/kv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(prefixEnd(prefix))}&limit=10000&consistency=linearizable`;
    const r = await definite(`a linearizable range on ${m.name}`, () => request(m.clientAddr, "GET", path), 20_000);
    assert.equal(r.status, 200, `range on ${m.name}: ${r.text}`);
    const body = r.body as { kvs: { key: string; value: string }[]; more: boolean };
    for (const kv of body.kvs) found.set(kv.key, kv.value);
    const last = body.kvs.at(-1);
    if (!body.more || last === undefined) return found;
    from = `${last.key}\u0000`;
  }
}

/**
 * Reads the writer's keys linearizably from each of `readers`: every acknowledged write is there
 * with its value, no write that definitely failed is, and nothing else is under the prefix.
 */
async function verifyWrites(writer: Writer, prefix: string, readers: readonly Member[]): Promise<void> {
  const attempts = new Map(writer.attempts.map((a) => [a.key, a]));
  for (const m of readers) {
    const found = await readAll(m, prefix);
    const problems: string[] = [];
    for (const a of writer.attempts) {
      const value = found.get(a.key);
      if (a.outcome === "ok" && value !== a.value)
        problems.push(`${a.key}: acknowledged ${a.value}, read ${value ?? "nothing"}`);
      if (a.outcome === "failed" && value !== undefined)
        problems.push(`${a.key}: definitely failed, yet holds ${value}`);
      if (a.outcome === "unknown" && value !== undefined && value !== a.value)
        problems.push(`${a.key}: wrote ${a.value}, read ${value}`);
    }
    for (const key of found.keys()) if (!attempts.has(key)) problems.push(`${key}: never written`);
    assert.deepEqual(
      problems.slice(0, 10),
      [],
      `${m.name}: ${problems.length} problems with ${writer.attempts.length} writes`,
    );
  }
}

function describeWriter(writer: Writer): string {
  const count = (o: string): number => writer.attempts.filter((a) => a.outcome === o).length;
  return `${writer.attempts.length} attempts (ok ${count("ok")}, unknown ${count("unknown")}, failed ${count("failed")})`;
}

async function assertStops(cluster: ProcessCluster, m: Member): Promise<void> {
  const output = (): string => m.output;
  const code = await withDeadline(cluster.stopMember(m.name, "SIGTERM"), 15_000, `${m.name} to exit after SIGTERM`);
  assert.equal(code, 0, `${m.name} exits 0 on SIGTERM: ${output()}`);
}

describe("membership: grow, shrink, replace and transfer under write load", { skip: fixedEnsemble }, () => {
  let cluster: ProcessCluster;
  /** The voters now, as the test has changed them. */
  let config: Member[] = [];
  /** Every phase's writer; `checked` once its phase verified it (stopped, nothing lost). */
  const writers: { writer: Writer; prefix: string; client: RaftkvClient; checked: boolean }[] = [];

  function startWriter(phase: string, endpoints: readonly Member[]): Writer {
    const client = new RaftkvClient({ endpoints: endpoints.map((m) => m.clientAddr), timeoutMs: 5_000 });
    const prefix = `${phase}-${run}-`;
    const writer = new Writer(client, (i) => `${prefix}${String(i).padStart(7, "0")}`);
    writers.push({ writer, prefix, client, checked: false });
    return writer;
  }

  /** Stops the phase's writer and checks its writes on `readers`, linearizably. */
  async function finishWriter(writer: Writer, readers: readonly Member[]): Promise<void> {
    await writer.stop();
    const entry = writers.find((w) => w.writer === writer)!;
    console.log(`${entry.prefix}: ${describeWriter(writer)}`);
    assert.ok(
      writer.acknowledged().length >= 20,
      `too few acknowledged writes to mean anything: ${describeWriter(writer)}`,
    );
    await verifyWrites(writer, entry.prefix, readers);
    entry.checked = true;
  }

  /** Runs a phase with a writer over `endpoints`, stopped whatever happens. */
  async function withWriter(
    phase: string,
    endpoints: readonly Member[],
    body: (writer: Writer) => Promise<void>,
  ): Promise<void> {
    const writer = startWriter(phase, endpoints);
    try {
      await body(writer);
    } finally {
      await writer.stop();
    }
  }

  before(async () => {
    // Snapshots every 500 entries: the members snapshot during the changes, and the configuration
    // (members and addresses) must survive in the snapshots, e.g. across a restart.
    cluster = await ProcessCluster.start(3, { serveArgs: ["--snapshot-entries", "500"] });
    config = [...cluster.members];
    await cluster.leader(30_000);
  });

  after(async () => {
    await Promise.all(writers.map(({ writer }) => writer.stop().catch(() => undefined)));
    for (const { client } of writers) client.close();
    await cluster?.stop();
  });

  it(
    "grows 3 → 5 through a follower while a writer runs; the new members serve every acknowledged write",
    { timeout: testTimeoutMs },
    async () => {
      await withWriter("grow", config, async (writer) => {
        await writer.progress(20);
        const spares: Member[] = [];
        for (const name of ["n4", "n5"]) {
          const spare = await cluster.startSpare(name, config);
          spares.push(spare);
          // A spare starts empty and waits to be added: it answers, knows no configuration and does not lead.
          const waiting = await until(`${name} to answer while it waits`, () => statusOf(spare), 20_000);
          assert.notEqual(waiting.role, "leader", `${name} leads before being added: ${JSON.stringify(waiting)}`);
          assert.deepEqual(waiting.members, [], `${name} lists members before being added: ${JSON.stringify(waiting)}`);
          const leader = await agreedLeader(config);
          const follower = config.find((m) => m !== leader)!;
          const r = await addMember(follower, spare);
          const next = [...config, spare];
          assertMembersAnswer(r, expectedMembers(next), `adding ${name} via the follower ${follower.name}`);
          config = next;
          await writer.progress(10);
        }
        await waitMembers(config, expectedMembers(config));
        await waitLeader(config, await agreedLeader(config));
        await writer.progress(20);
        await finishWriter(writer, spares);
        // The latest acknowledged write, through each new member alone.
        const latest = writer.acknowledged().at(-1)!;
        for (const spare of spares) {
          const r = await definite(
            `a linearizable GET on ${spare.name}`,
            () => request(spare.clientAddr, "GET", `/v1/kv/${latest.key}`),
            20_000,
          );
          assert.equal(r.status, 200, r.text);
          assert.equal((r.body as { value: string }).value, latest.value);
        }
      });
    },
  );

  it(
    "shrinks 5 → 3 removing a follower and the leader; a new leader among the rest serves writes; the removed never lead again and stop cleanly",
    { timeout: testTimeoutMs },
    async () => {
      assert.equal(config.length, 5, "needs the grown cluster");
      const leader = await agreedLeader(config);
      // A follower from the original three (not n3, kept for the replacement), and the leader itself.
      const originals = config.filter((m) => !m.join && m !== leader);
      const follower = originals.find((m) => m.name !== "n3") ?? originals[0]!;
      const removed = [follower, leader];
      const survivors = config.filter((m) => !removed.includes(m));
      await withWriter("shrink", survivors, async (writer) => {
        await writer.progress(20);
        const r1 = await removeMember(survivors[0]!, follower.name);
        assertMembersAnswer(
          r1,
          expectedMembers(config.filter((m) => m !== follower)),
          `removing the follower ${follower.name}`,
        );
        config = config.filter((m) => m !== follower);
        await writer.progress(10);

        // The leader's own removal, asked of a member that stays (forwarded to the leader). It hands
        // leadership to one of the others (it may keep replicating a moment until the successor takes over).
        const r2 = await removeMember(survivors[0]!, leader.name);
        assertMembersAnswer(
          r2,
          expectedMembers(survivors),
          `removing the leader ${leader.name} via ${survivors[0]!.name}`,
        );
        const removedAt = performance.now();
        config = survivors;
        const next = await agreedLeader(survivors);
        console.log(
          `removed leader ${leader.name}: ${next.name} leads ${(performance.now() - removedAt).toFixed(0)} ms after the answer`,
        );
        await waitMembers(survivors, expectedMembers(survivors));
        await writer.progress(20);

        // For a while (many election timeouts), the removed processes never lead, their term settles,
        // and the members that stay never name a removed one as leader.
        const samples: { at: number; terms: number[] }[] = [];
        const windowMs = 3_000;
        const started = performance.now();
        while (performance.now() - started < windowMs) {
          const [gone, staying] = await Promise.all([
            Promise.all(removed.map(statusOf)),
            Promise.all(survivors.map(statusOf)),
          ]);
          for (const s of gone)
            assert.notEqual(s.role, "leader", `the removed ${s.id} leads again: ${JSON.stringify(s)}`);
          for (const s of staying)
            assert.ok(
              s.leader === null || survivors.some((m) => m.name === s.leader),
              `${s.id} names ${s.leader} as leader`,
            );
          samples.push({ at: performance.now() - started, terms: gone.map((s) => s.term) });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const settled = samples.filter((s) => s.at >= windowMs / 3);
        for (let i = 0; i < removed.length; i++) {
          const terms = new Set(settled.map((s) => s.terms[i]));
          assert.equal(
            terms.size,
            1,
            `${removed[i]!.name}'s term keeps growing after its removal: ${samples.map((s) => s.terms[i]).join(",")}`,
          );
        }
        for (const m of removed) await assertStops(cluster, m);
        await writer.progress(10);
        await finishWriter(writer, survivors);
      });
    },
  );

  it(
    "replaces a member: removes n3, adds a fresh n6 on a new data dir with --join; writes continue; n6 has everything, also after a restart",
    { timeout: testTimeoutMs },
    async () => {
      assert.equal(config.length, 3, "needs the shrunk cluster");
      const old = config.find((m) => m.name === "n3") ?? config.find((m) => !m.join)!;
      const remaining = config.filter((m) => m !== old);
      await withWriter("replace", remaining, async (writer) => {
        await writer.progress(20);
        const r1 = await removeMember(remaining[0]!, old.name);
        assertMembersAnswer(r1, expectedMembers(remaining), `removing ${old.name}`);
        config = remaining;
        await agreedLeader(remaining);
        await assertStops(cluster, old);
        await writer.progress(10);

        const fresh = await cluster.startSpare("n6", remaining);
        const leader = await agreedLeader(remaining);
        const via = remaining.find((m) => m !== leader)!;
        const r2 = await addMember(via, fresh);
        const next = [...remaining, fresh];
        assertMembersAnswer(r2, expectedMembers(next), `adding ${fresh.name} via ${via.name}`);
        config = next;
        await waitMembers(config, expectedMembers(config));
        await writer.progress(20);
        await finishWriter(writer, [fresh]);
        // n6 holds every phase's acknowledged writes, read linearizably through it alone.
        const phases = writers.filter((w) => w.checked);
        for (const { writer: w, prefix } of phases) await verifyWrites(w, prefix, [fresh]);
        const s = await statusOf(fresh);
        console.log(`${fresh.name}: snapshotIndex ${s.snapshotIndex}, appliedIndex ${s.appliedIndex}`);

        // The member that joined restarts from its data dir (crash, then the same command line): it
        // is still a member, with the same configuration, and serves everything again.
        assert.equal(await cluster.stopMember(fresh.name, "SIGKILL"), null);
        cluster.startMember(fresh.name, remaining);
        await waitMembers(config, expectedMembers(config), 30_000);
        await agreedLeader(config);
        for (const { writer: w, prefix } of phases) await verifyWrites(w, prefix, [fresh]);
      });
    },
  );

  it(
    "transfers leadership to each voter in turn; each time every node sees the target lead",
    { timeout: testTimeoutMs },
    async () => {
      assert.equal(config.length, 3, "needs the replaced cluster");
      await withWriter("transfer", config, async (writer) => {
        await writer.progress(10);
        // Each voter in turn, the current leader last, so every transfer moves leadership.
        const first = await agreedLeader(config);
        const order = [...config.filter((m) => m !== first), first];
        for (const target of order) {
          const current = await agreedLeader(config);
          const termBefore = (await statusOf(current)).term;
          // Asked of a member that is neither the target nor (when there is one) the leader: forwarded.
          const via = config.find((m) => m !== target && m !== current) ?? config.find((m) => m !== target)!;
          const r = await transfer(via, target.name);
          if (r.status !== 200) {
            // Say what became of the transfer: who leads now, in which term, and how far each log is.
            const now = await Promise.all(config.map(statusOf));
            const views = now
              .map((s) => `${s.id}: ${s.role}, term ${s.term}, leader ${s.leader}, last ${s.lastIndex}`)
              .join("; ");
            assert.fail(
              `transfer ${current.name} → ${target.name} via ${via.name} (term ${termBefore}): ${r.status} ${r.text}; now ${views}`,
            );
          }
          assert.deepEqual(r.body, { leader: target.name });
          await waitLeader(config, target);
          if (current !== target)
            assert.ok(
              (await statusOf(target)).term > termBefore,
              `${target.name} leads in a later term than ${current.name} did (${termBefore})`,
            );
          await writer.progress(5);
        }
        await finishWriter(writer, config);
      });
    },
  );
});

describe("membership: learners, concurrent changes, refusals and the CLI", { skip: fixedEnsemble }, () => {
  let cluster: ProcessCluster;
  /** n1, n2, n3: every test here starts from them as the only members, and restores that. */
  let base: Member[] = [];

  before(async () => {
    cluster = await ProcessCluster.start(3);
    base = [...cluster.members];
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  /** Removes whatever a test added (even if it failed half-way) and stops the spares. */
  async function restore(): Promise<void> {
    const via = base[0]!;
    await until(
      `the configuration back to ${names(base)}`,
      async () => {
        const extra = (await membersOf(via)).filter((x) => !base.some((m) => m.name === x.id));
        if (extra.length === 0) return true;
        for (const x of extra) {
          const r = await request(
            via.clientAddr,
            "DELETE",
            `/v1/members/${encodeURIComponent(x.id)}`,
            undefined,
            {},
            changeTimeoutMs,
          );
          if (![200, 404, 409, 503].includes(r.status)) throw new Error(`removing ${x.id}: ${r.status} ${r.text}`);
        }
        return undefined;
      },
      60_000,
    );
    await waitMembers(base, expectedMembers(base));
    for (const m of cluster.members)
      if (!base.includes(m) && m.process !== undefined) await cluster.stopMember(m.name, "SIGKILL");
  }

  /** Runs a test body, then restores the three voters whatever happened. */
  async function restoring(body: () => Promise<void>): Promise<void> {
    let failed = true;
    try {
      await body();
      failed = false;
    } finally {
      // A failure to restore after a failure already reported is only worth a line.
      await restore().catch((error: unknown) => {
        if (!failed) throw error;
        console.log(`restoring ${names(base)} failed too: ${String(error)}`);
      });
    }
  }

  /** Waits until `m` has applied a write made just now (so it has caught up with the log). */
  async function caughtUp(m: Member, config: readonly Member[]): Promise<void> {
    const leader = await agreedLeader(config);
    const key = `catch-up-${run}-${m.name}`;
    const put = await definite(
      `a PUT via ${leader.name}`,
      () => request(leader.clientAddr, "PUT", `/v1/kv/${key}`, `${performance.now()}`),
      20_000,
    );
    assert.equal(put.status, 200, put.text);
    const revision = (put.body as { revision: number }).revision;
    await until(
      `${m.name} to apply revision ${revision}`,
      async () => {
        const r = await request(m.clientAddr, "GET", `/v1/kv/${key}?consistency=serializable`);
        return r.status === 200 && (r.body as { modRevision: number }).modRevision === revision ? true : undefined;
      },
      20_000,
    );
  }

  it(
    "two adds fired at once: each is applied or refused 409 change_in_progress; the cluster ends with exactly the added voters",
    { timeout: testTimeoutMs },
    async () => {
      await restoring(async () => {
        const config = [...base];
        const spares = [await cluster.startSpare("n4", config), await cluster.startSpare("n5", config)];
        const leader = await agreedLeader(config);
        const follower = config.find((m) => m !== leader)!;
        // One through the leader, one through a follower, at the same moment. A 503 or 504 (a leader
        // change under load: not applied, or promotion unfinished) is retried as a client would; after
        // a 504 the first try may still be landing, so a 409 change_in_progress is retried too (the
        // add is idempotent), until an answer that settles it.
        const settled = async (via: Member, spare: Member): Promise<Answer> => {
          let outcomeUnknown = false;
          for (let attempt = 0; ; attempt++) {
            const r = await addMember(via, spare);
            outcomeUnknown ||= r.status === 504;
            const stillLanding = outcomeUnknown && r.status === 409 && r.text.includes("change_in_progress");
            if ((r.status !== 503 && r.status !== 504 && !stillLanding) || attempt >= 20) return r;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        };
        const answers = await Promise.all([settled(leader, spares[0]!), settled(follower, spares[1]!)]);
        console.log(
          `concurrent adds: ${answers.map((r, i) => `${spares[i]!.name} ${r.status} ${r.status === 200 ? "" : r.text}`).join("; ")}`,
        );
        const added: Member[] = [];
        for (const [i, r] of answers.entries()) {
          const spare = spares[i]!;
          if (r.status === 200) {
            added.push(spare);
            const listed = sortMembers((r.body as { members: MemberJson[] }).members);
            assert.ok(
              listed.some((x) => x.id === spare.name && x.peerAddr === spare.peerAddr && !x.learner),
              `the answer to adding ${spare.name} lists it as a voter: ${r.text}`,
            );
          } else assertRefused(r, 409, "change_in_progress", `adding ${spare.name} concurrently`);
        }
        assert.ok(
          added.length >= 1,
          `at least one of the concurrent adds succeeds: ${answers.map((r) => `${r.status} ${r.text}`).join(" | ")}`,
        );
        // Exactly the added ones, as voters, and no one twice: nothing half-added from a refused one.
        await waitMembers([...config, ...added], expectedMembers([...config, ...added]));
        for (const spare of spares.filter((s) => !added.includes(s))) {
          const r = await addMember(follower, spare);
          assertMembersAnswer(
            r,
            expectedMembers([...config, ...added, spare]),
            `adding ${spare.name} again after the refusal`,
          );
          added.push(spare);
        }
        config.push(...added);
        await waitMembers(config, expectedMembers(config));

        // Two removals at once: serialised or refused the same way.
        const removals = await Promise.all([
          removeMember(leader, spares[0]!.name),
          removeMember(follower, spares[1]!.name),
        ]);
        console.log(
          `concurrent removals: ${removals.map((r, i) => `${spares[i]!.name} ${r.status} ${r.status === 200 ? "" : r.text}`).join("; ")}`,
        );
        assert.ok(
          removals.some((r) => r.status === 200),
          `one of the concurrent removals succeeds: ${removals.map((r) => `${r.status} ${r.text}`).join(" | ")}`,
        );
        for (const [i, r] of removals.entries()) {
          if (r.status === 200) continue;
          assertRefused(r, 409, "change_in_progress", `removing ${spares[i]!.name} concurrently`);
          assertMembersAnswer(
            await removeMember(follower, spares[i]!.name),
            expectedMembers(base),
            `removing ${spares[i]!.name} after the refusal`,
          );
        }
        await waitMembers(base, expectedMembers(base));
        for (const spare of spares) await assertStops(cluster, spare);

        // The same member added twice at once (a client's retry racing its first try): never two
        // entries; each answer is 200 (idempotent) or 409 change_in_progress.
        const n6 = await cluster.startSpare("n6", base);
        const twice = await Promise.all([addMember(leader, n6, true), addMember(follower, n6, true)]);
        console.log(
          `the same add twice at once: ${twice.map((r) => `${r.status} ${r.status === 200 ? "" : r.text}`).join("; ")}`,
        );
        for (const r of twice)
          if (r.status !== 200) assertRefused(r, 409, "change_in_progress", `adding ${n6.name} twice at once`);
        assert.ok(
          twice.some((r) => r.status === 200),
          `one of the duplicate adds succeeds: ${twice.map((r) => `${r.status} ${r.text}`).join(" | ")}`,
        );
        await waitMembers(base, expectedMembers(base, [n6]));
      });
    },
  );

  it(
    "a learner added with learner:true catches up without voting, cannot lead, and is promoted with the promote route",
    { timeout: testTimeoutMs },
    async () => {
      await restoring(async () => {
        const n7 = await cluster.startSpare("n7", base);
        const leader = await agreedLeader(base);
        const follower = base.find((m) => m !== leader)!;
        assertMembersAnswer(
          await addMember(follower, n7, true),
          expectedMembers(base, [n7]),
          `adding ${n7.name} as a learner`,
        );
        await waitMembers([...base, n7], expectedMembers(base, [n7]));
        await caughtUp(n7, base);
        assert.notEqual((await statusOf(n7)).role, "leader");
        await waitLeader([n7], await agreedLeader(base));
        // A learner cannot be made leader, and a re-add as a learner leaves it one.
        assertRefused(await transfer(base[0]!, n7.name), 400, "not_voter", "a transfer to the learner");
        assertMembersAnswer(
          await addMember(base[1]!, n7, true),
          expectedMembers(base, [n7]),
          "re-adding the learner as a learner",
        );
        // Promotion, through a follower; learner_behind (409) would only mean "not yet".
        const promoted = await until(
          `${n7.name}'s promotion`,
          async () => {
            const r = await promoteMember(follower, n7.name);
            if (r.status === 409 && (r.body as { error: string }).error === "learner_behind") return undefined;
            return r;
          },
          changeTimeoutMs,
        );
        const config = [...base, n7];
        assertMembersAnswer(promoted, expectedMembers(config), `promoting ${n7.name}`);
        await waitMembers(config, expectedMembers(config));
        // Promoting it again is promoting a voter.
        assertRefused(await promoteMember(leader, n7.name), 400, "not_learner", `promoting the promoted ${n7.name}`);
        // And the new voter can lead.
        const moved = await transfer(follower, n7.name);
        assert.equal(moved.status, 200, moved.text);
        await waitLeader(config, n7);
      });
    },
  );

  it(
    "refusals: promoting a voter (400 not_learner), unknown members (404); nothing changes",
    { timeout: testTimeoutMs },
    async () => {
      const leader = await agreedLeader(base);
      const follower = base.find((m) => m !== leader)!;
      for (const via of [leader, follower]) {
        for (const m of base)
          assertRefused(
            await promoteMember(via, m.name),
            400,
            "not_learner",
            `promoting the voter ${m.name} via ${via.name}`,
          );
        assertRefused(await promoteMember(via, "n9"), 404, "unknown_member", `promoting n9 via ${via.name}`);
        assertRefused(await removeMember(via, "n9"), 404, "unknown_member", `removing n9 via ${via.name}`);
        assertRefused(await transfer(via, "n9"), 404, "unknown_member", `a transfer to n9 via ${via.name}`);
      }
      await waitMembers(base, expectedMembers(base));
    },
  );

  it(
    "the CLI: member add --learner, member promote, members, transfer-leader, member remove; refusals exit 1",
    { timeout: testTimeoutMs },
    async () => {
      await restoring(async () => {
        const n8 = await cluster.startSpare("n8", base);
        const endpoints = ["--endpoints", base.map((m) => m.clientAddr).join(","), "--timeout", "30s"];
        const cli = async (args: string[], expectCode = 0): Promise<unknown> => {
          const exit = await runCli([...args, ...endpoints, "--json"], { timeoutMs: 60_000 });
          assert.equal(
            exit.code,
            expectCode,
            `raftkv ${args.join(" ")}: exit ${exit.code}, stdout ${exit.stdout}, stderr ${exit.stderr}`,
          );
          if (expectCode !== 0) {
            assert.match(exit.stderr, /^error: [^\n]+\n$/, `raftkv ${args.join(" ")}: one line on stderr`);
            return exit.stderr;
          }
          return JSON.parse(exit.stdout);
        };

        const added = (await cli(["member", "add", n8.name, n8.peerAddr, "--learner"])) as { members: MemberJson[] };
        assert.deepEqual(sortMembers(added.members), expectedMembers(base, [n8]));
        await waitMembers(base, expectedMembers(base, [n8]));
        await caughtUp(n8, base);
        const promoted = (await cli(["member", "promote", n8.name])) as { members: MemberJson[] };
        const config = [...base, n8];
        assert.deepEqual(sortMembers(promoted.members), expectedMembers(config));
        const listed = (await cli(["members"])) as { members: MemberJson[] };
        assert.deepEqual(sortMembers(listed.members), expectedMembers(config));
        // The human table too.
        const table = await runCli(["members", ...endpoints]);
        assert.equal(table.code, 0, table.stderr);
        assert.match(
          table.stdout,
          new RegExp(`^${n8.name}\\s+${n8.peerAddr.replace(/\./g, "\\.")}\\s+voter\\s*$`, "m"),
          table.stdout,
        );

        assert.deepEqual(await cli(["transfer-leader", n8.name]), { leader: n8.name });
        await waitLeader(config, n8);
        const back = base[0]!;
        assert.deepEqual(await cli(["transfer-leader", back.name]), { leader: back.name });
        await waitLeader(config, back);

        assert.match(String(await cli(["member", "promote", back.name], 1)), /not_learner/);
        assert.match(String(await cli(["member", "remove", "n9"], 1)), /unknown_member/);
        assert.match(String(await cli(["transfer-leader", "n9"], 1)), /unknown_member/);
        await waitMembers(config, expectedMembers(config));

        const removed = (await cli(["member", "remove", n8.name])) as { members: MemberJson[] };
        assert.deepEqual(sortMembers(removed.members), expectedMembers(base));
        await waitMembers(base, expectedMembers(base));
        await assertStops(cluster, n8);
      });
    },
  );

  it(
    "while a member is being added, every member list names each member with its address, and a repeated add of it is never an id collision",
    { timeout: testTimeoutMs },
    async () => {
      await restoring(async () => {
        const anomalies: string[] = [];
        for (let round = 1; round <= 3; round++) {
          // Learners need not answer to be added: spares that are never started.
          const spare = await cluster.reserveSpare(`s${round}`);
          const known = new Map([...base, spare].map((m) => [m.name, m.peerAddr]));
          let adding = true;
          const watch = async (m: Member): Promise<void> => {
            while (adding) {
              const r = await request(m.clientAddr, "GET", "/v1/members");
              if (r.status !== 200) {
                anomalies.push(`GET /v1/members on ${m.name}: ${r.status} ${r.text}`);
                continue;
              }
              for (const x of (r.body as { members: MemberJson[] }).members) {
                if (known.get(x.id) !== x.peerAddr)
                  anomalies.push(`GET /v1/members on ${m.name} listed ${JSON.stringify(x)}`);
              }
            }
          };
          const watchers = base.map(watch);
          let answers: Answer[];
          try {
            // The same add, several times at once through every member (a client's retries racing each other).
            answers = await Promise.all(
              base.flatMap((via) => [addMember(via, spare, true), addMember(via, spare, true)]),
            );
          } finally {
            adding = false;
            await Promise.allSettled(watchers);
          }
          for (const r of answers) {
            const code = (r.body as { error?: string }).error;
            if (r.status !== 200 && code !== "change_in_progress")
              anomalies.push(`adding ${spare.name} at its own address: ${r.status} ${r.text}`);
          }
          await waitMembers(base, expectedMembers(base, [spare]));
          assertMembersAnswer(
            await removeMember(base[0]!, spare.name),
            expectedMembers(base),
            `removing the learner ${spare.name}`,
          );
          await waitMembers(base, expectedMembers(base));
        }
        // Reported together, at most a few of each kind.
        const distinct = [...new Set(anomalies.map((a) => a.replace(/\d{5,}/g, "#")))];
        assert.deepEqual(distinct, [], `${anomalies.length} anomalies, e.g. ${anomalies.slice(0, 3).join(" | ")}`);
      });
    },
  );

  it(
    "an add whose promotion is cut short by a leader change does not answer 503 (definitely not applied) while its learner stays in",
    { timeout: testTimeoutMs },
    async () => {
      await restoring(async () => {
        // A spare that never starts: it is added as a learner at once, then never catches up, so the
        // add waits to promote it — and leadership moves meanwhile.
        const spare = await cluster.reserveSpare("s-cut");
        const leader = await agreedLeader(base);
        const other = base.find((m) => m !== leader)!;
        const pending = request(
          leader.clientAddr,
          "POST",
          "/v1/members",
          JSON.stringify({ id: spare.name, peerAddr: spare.peerAddr }),
          jsonType,
          changeTimeoutMs,
        );
        pending.catch(() => undefined); // awaited below; never an unhandled rejection if the test fails first
        await until(
          `${spare.name} to be in as a learner`,
          async () => ((await membersOf(leader)).some((x) => x.id === spare.name && x.learner) ? true : undefined),
          20_000,
        );
        const moved = await transfer(leader, other.name);
        assert.equal(moved.status, 200, `transfer to ${other.name}: ${moved.text}`);
        const answer = await pending;
        const now = await membersOf(await agreedLeader(base));
        // 503 promises that nothing was applied (docs/api.md); an unknown outcome is 504.
        assert.ok(
          !(answer.status === 503 && now.some((x) => x.id === spare.name)),
          `POST /v1/members answered ${answer.status} ${answer.text} (definitely not applied), yet ${spare.name} is in the configuration: ${JSON.stringify(now)}`,
        );
        assert.ok(answer.status !== 200, `${spare.name} cannot have been promoted: ${answer.text}`);
      });
    },
  );
});

describe("membership: a 1-node cluster", { skip: fixedEnsemble }, () => {
  let cluster: ProcessCluster;

  before(async () => {
    cluster = await ProcessCluster.start(1);
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("refuses to remove its last voter (400 last_voter) and keeps serving", { timeout: testTimeoutMs }, async () => {
    const n1 = cluster.member("n1");
    const r = await removeMember(n1, "n1");
    assertRefused(r, 400, "last_voter", "removing the only voter");
    await waitMembers([n1], expectedMembers([n1]));
    const put = await definite(
      "a PUT after the refusal",
      () => request(n1.clientAddr, "PUT", `/v1/kv/alone-${run}`, "still here"),
      20_000,
    );
    assert.equal(put.status, 200, put.text);
    assert.equal((await statusOf(n1)).role, "leader");
  });
});
