/**
 * The operators' view on a real 3-process cluster, without a browser: GET /v1/cluster from any
 * member, the Prometheus scrape, the JSON log lines, `raftkv status`, and the one-line refusals.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  cleanEnv,
  clusterClient,
  freePort,
  getJson,
  ProcessCluster,
  request,
  runCli,
  tempDir,
  until,
  type Member,
} from "./harness.js";
import { fixedEnsemble } from "./engine_under_test.js";

interface ClusterMemberJson {
  id: string;
  clientAddr: string | null;
  reachable: boolean;
  role: string | null;
  term: number | null;
  lastIndex: number | null;
  lag: number | null;
}

interface ClusterJson {
  id: string;
  leader: { id: string; term: number; since: number | null } | null;
  members: ClusterMemberJson[];
  leaderChanges: { term: number; leader: string }[];
  memberChanges: { index: number; text: string }[];
  rates: { t: number; reads: number; writes: number }[];
}

/** The member's JSON log lines (stdout and stderr are interleaved in `output`; other lines are skipped). */
function logLines(m: Member): Record<string, unknown>[] {
  return m.output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function scraped(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/**
 * A bootstrap shows as the first membership change (the dashboard's list, the log), except on a
 * fixed ensemble (Multi-Paxos), which is named at start and never changes: it shows no change at all.
 */
function assertBootstrap(changes: readonly string[]): void {
  const shown = changes.some((text) => /^(membership change: )?cluster bootstrapped/.test(text));
  assert.equal(shown, fixedEnsemble === false, changes.join("\n"));
}

describe("metrics, logs, /v1/cluster and raftkv status on a 3-process cluster", () => {
  let cluster: ProcessCluster;
  let leader: Member;

  before(async () => {
    cluster = await ProcessCluster.start(3, { serveArgs: ["--snapshot-entries", "25"] });
    leader = await cluster.leader(30_000);
    const client = clusterClient(cluster);
    try {
      for (let k = 0; k < 60; k++) await client.put(`obs-${k}`, `value ${k}`);
      for (let k = 0; k < 10; k++) await client.get(`obs-${k}`);
    } finally {
      client.close();
    }
    leader = await cluster.leader();
  });

  after(async () => {
    await cluster?.stop();
  });

  it("GET /v1/cluster on every member lists every member, reachable, with the leader and lags", async () => {
    for (const m of cluster.members) {
      // Settled: everyone reachable, one leader named by the view and by its own role (an election may intervene).
      const view = await until(`${m.name}'s /v1/cluster to list every member reachable`, async () => {
        const r = await getJson(m.clientAddr, "/v1/cluster");
        assert.equal(r.status, 200);
        const body = r.body as unknown as ClusterJson;
        const settled =
          body.leader !== null &&
          body.members.length === 3 &&
          body.members.every((x) => x.reachable && x.role === (x.id === body.leader?.id ? "leader" : "follower"));
        return settled ? body : undefined;
      });
      assert.equal(view.id, m.name);
      for (const x of view.members) {
        assert.equal(x.clientAddr, cluster.member(x.id).clientAddr, `${m.name} knows ${x.id}'s client address`);
        assert.ok(typeof x.lag === "number" && x.lag >= 0);
      }
      assert.ok(view.leaderChanges.some((c) => c.leader === view.leader?.id));
      assertBootstrap(view.memberChanges.map((c) => (c.index === 1 ? c.text : "")));
      assert.ok(view.rates.length > 0);
    }
    // Rates cover whole seconds, so the last writes show once their second is over.
    await until("the writes on the chart's data", async () => {
      const answer = await request(leader.clientAddr, "GET", "/v1/cluster");
      return (answer.body as ClusterJson).rates.reduce((n, r) => n + r.writes, 0) >= 60 ? true : undefined;
    });
    const headers = await fetch(`http://${leader.clientAddr}/v1/cluster`);
    assert.equal(
      headers.headers.get("access-control-allow-origin"),
      "*",
      "a page served by another member may read it",
    );
    await headers.arrayBuffer();
  });

  it("/metrics has the raft, disk, snapshot, network and HTTP metrics", async () => {
    const text = await until("a scrape of the leader", async () => {
      leader = await cluster.leader();
      const scrape = (await request(leader.clientAddr, "GET", "/metrics")).text;
      return scraped(scrape, "raftkv_server_is_leader") === 1 ? scrape : undefined;
    });
    assert.equal(scraped(text, 'raftkv_server_role{role="leader"}'), 1);
    assert.equal(scraped(text, "raftkv_server_proposals_pending"), 0);
    assert.ok(scraped(text, 'raftkv_snapshots_total{kind="taken"}') >= 1, "snapshots every 25 entries");
    assert.ok(scraped(text, 'raftkv_snapshot_duration_seconds_count{kind="taken"}') >= 1);
    assert.ok(scraped(text, "raftkv_disk_wal_entries_per_fsync_count") >= 1);
    assert.ok(scraped(text, "raftkv_server_apply_lag_entries") >= 0);
    for (const peer of cluster.members.filter((m) => m !== leader)) {
      assert.equal(scraped(text, `raftkv_network_peer_connected{peer="${peer.name}"}`), 1);
      assert.ok(scraped(text, `raftkv_network_peer_send_queue_depth{peer="${peer.name}"}`) >= 0);
    }
    assert.ok(scraped(text, 'raftkv_network_peer_dropped_messages_total{reason="queue_full"}') >= 0);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    // Requests are counted by the member they were sent to, whichever the client picked.
    let rounds = 0;
    let committed = 0;
    let puts = 0;
    let timedPuts = 0;
    for (const m of cluster.members) {
      const scrape = (await request(m.clientAddr, "GET", "/metrics")).text;
      rounds += scraped(scrape, 'raftkv_server_read_index_rounds_total{mode="safe"}');
      // Proposals count where they were made: a member the client did not send a put to made none.
      committed += scraped(scrape, "raftkv_server_proposals_committed_total");
      // A member no put was sent to has no such series (NaN).
      puts += scraped(scrape, 'raftkv_http_requests_total{route="put",code="200"}') || 0;
      timedPuts +=
        scraped(scrape, 'raftkv_http_request_duration_seconds_bucket{le="+Inf",route="put",code="200"}') || 0;
    }
    assert.ok(rounds >= 1, "linearizable reads ran ReadIndex rounds");
    assert.ok(committed >= 60, `the 60 puts were proposed and committed (${committed})`);
    assert.ok(puts >= 60 && timedPuts >= 60, `the 60 puts were counted and timed (${puts}, ${timedPuts})`);
  });

  it("every log line is JSON with the member's name and term; role, leader, snapshot, membership and peer events are logged", () => {
    for (const m of cluster.members) {
      const lines = logLines(m);
      assert.ok(lines.length >= 4, `${m.name} logged: ${m.output.slice(0, 500)}`);
      for (const line of lines) {
        assert.equal(line.node, m.name);
        assert.equal(typeof line.level, "string");
        assert.equal(typeof line.msg, "string");
      }
      assert.ok(
        lines.every((l) => typeof l.term === "number"),
        `${m.name}: a term on every line`,
      );
      const messages = lines.map((l) => String(l.msg));
      assert.ok(messages.some((msg) => /clients on http:\/\//.test(msg)));
      assertBootstrap(messages);
      assert.ok(messages.some((msg) => /^became (follower|leader|candidate|preCandidate) in term \d+$/.test(msg)));
      assert.ok(messages.some((msg) => /^leader is n\d$/.test(msg)));
      assert.ok(
        messages.some((msg) => /^snapshot taken at index \d+$/.test(msg)),
        `${m.name} took a snapshot`,
      );
      for (const peer of cluster.members.filter((x) => x !== m))
        assert.ok(messages.includes(`peer ${peer.name} connected`), `${m.name} logged ${peer.name}'s connection`);
    }
    assert.ok(
      cluster.members.some((m) => logLines(m).some((l) => l.msg === `became leader in term ${String(l.term)}`)),
      "a leader logged its election",
    );
  });

  it("raftkv status prints the whole cluster from any one endpoint, and a dead member as unreachable", async () => {
    leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    // Retried in case an election moves leadership between asking the cluster and asking the CLI.
    await until("raftkv status to show every member with the agreed leader", async () => {
      const shown = await runCli(["status", "--endpoints", follower.clientAddr], { env: cleanEnv() });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^ENDPOINT +ID +ROLE +TERM +LEADER +COMMIT +APPLIED +LAST +SNAPSHOT +LAG\n/);
      assert.match(shown.stdout, new RegExp(`as seen by ${follower.name}`));
      leader = await cluster.leader();
      return cluster.members.every((m) =>
        new RegExp(
          `^${m.clientAddr.replace(/\./g, "\\.")} +${m.name} +${m === leader ? "leader" : "follower"} +\\d+ +${leader.name} +\\d+ +\\d+ +\\d+ +\\d+ +\\d+$`,
          "m",
        ).test(shown.stdout),
      )
        ? true
        : undefined;
    });

    const victim = cluster.members.find((m) => m !== leader && m !== follower)!;
    const watcher = cluster.members.find((m) => m !== victim)!;
    await cluster.stopMember(victim.name, "SIGKILL");
    await until(`${watcher.name} to log ${victim.name}'s disconnection`, () =>
      logLines(watcher).some((l) => l.msg === `peer ${victim.name} disconnected`) ? true : undefined,
    );
    const after = await runCli(["status", "--json", "--endpoints", follower.clientAddr], { env: cleanEnv() });
    assert.equal(after.code, 0, after.stderr);
    const rows = JSON.parse(after.stdout) as {
      endpoint: string;
      id?: string;
      status?: { id: string };
      error?: { code: string };
    }[];
    assert.deepEqual(
      rows.map((r) => r.status?.id ?? r.id),
      ["n1", "n2", "n3"],
    );
    assert.equal(rows.find((r) => r.id === victim.name)?.error?.code, "unreachable");
    cluster.startMember(victim.name);
    await until(`${victim.name} back`, async () =>
      (await getJson(victim.clientAddr, "/v1/status")).status === 200 ? true : undefined,
    );
  });

  it("a refusal to start is one line on stderr and one fatal JSON line on stdout; --log-level filters", async () => {
    const dir = await tempDir("raftkv-obs-refusal-");
    try {
      const args = [
        "serve",
        "--id",
        "n9",
        "--data",
        `${dir.path}/n9`,
        "--listen-peer",
        `127.0.0.1:${await freePort()}`,
        "--listen-client",
        leader.clientAddr,
      ];
      const refused = await runCli(args, { env: cleanEnv(), timeoutMs: 30_000 });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error: raftkv serve: port [\d.:]+ is in use\n$/);
      const lines = refused.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      // The node may log its first steps before the client port is found taken; the refusal ends it.
      const fatal = lines.filter((l) => l.level === "fatal");
      assert.equal(fatal.length, 1, refused.stdout);
      assert.equal(lines.at(-1), fatal[0]);
      assert.equal(fatal[0]!.node, "n9");
      assert.match(String(fatal[0]!.msg), /^refusing to start: port .* is in use$/);

      const quiet = await runCli([...args, "--log-level", "silent"], { env: cleanEnv(), timeoutMs: 30_000 });
      assert.equal(quiet.code, 1);
      assert.equal(quiet.stdout, "");
      const fromEnv = await runCli(args, { env: { ...cleanEnv(), RAFTKV_LOG_LEVEL: "silent" }, timeoutMs: 30_000 });
      assert.equal(fromEnv.stdout, "");

      const bad = await runCli([...args, "--log-level", "loud"], { env: cleanEnv(), timeoutMs: 30_000 });
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /^error: raftkv serve: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n$/,
      );
    } finally {
      await dir.remove();
    }
  });
});
