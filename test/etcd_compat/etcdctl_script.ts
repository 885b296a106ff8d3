/**
 * The etcdctl script of issue 17: put, get (prefix, range, revision, keys-only, count), del, txn in
 * etcdctl's interactive syntax, watch in the background, leases with attached keys, members,
 * endpoint status, move-leader, compaction and the errors etcd users meet. Each step adds the
 * command and its normalized output to a transcript; the test compares raftkv's transcript with
 * the one a real etcd gave (etcdctl.golden.txt).
 */
import { etcdctl, EtcdctlWatch, type EtcdctlRun, type EtcdctlTarget } from "./etcdctl.js";
import { Placeholders, type CompatCluster } from "./normalize.js";

/**
 * Polls until `probe` gives a value (etcd-style clusters answer within seconds; the bound is
 * generous); undefined after the bound, which the transcript then shows.
 */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface StatusLine {
  readonly endpoint: string;
  readonly id: string;
  readonly isLeader: boolean;
}

function parseStatus(stdout: string): StatusLine[] {
  return stdout
    .trim()
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split(", ");
      return { endpoint: fields[0]!, id: fields[1]!, isLeader: fields[4] === "true" };
    });
}

export class EtcdctlScript {
  readonly transcript: string[] = [];
  readonly #target: EtcdctlTarget;
  readonly #names: Placeholders;
  readonly #cluster: CompatCluster;

  constructor(cluster: CompatCluster) {
    this.#cluster = cluster;
    // host:port, as etcd's docs write endpoints (test/etcdctl_urls.test.ts covers http:// ones).
    this.#target = {
      endpoints: cluster.members.map((m) => m.clientUrl.replace(/^https?:\/\//, "")),
      flags: cluster.etcdctlFlags ?? [],
    };
    this.#names = new Placeholders(cluster);
  }

  async run(): Promise<string[]> {
    await this.#members();
    await this.#endpointStatus();
    await this.#keys();
    await this.#txn();
    await this.#watch();
    await this.#leases();
    await this.#membership();
    await this.#moveLeader();
    await this.#compaction();
    return this.transcript;
  }

  /** The command and its output with names in place (`sorted`: lines in any order). */
  #print(args: readonly string[], run: EtcdctlRun, output = run.stdout, more: { sorted?: boolean } = {}): void {
    this.transcript.push(`$ etcdctl ${this.#names.apply(args.join(" "))}`);
    const lines = this.#names.apply(output).replace(/\n+$/, "").split("\n");
    this.transcript.push(...(more.sorted === true ? lines.sort() : lines));
    if (run.code !== 0) this.transcript.push(`(exit ${run.code}) ${this.#names.apply(run.error)}`);
  }

  /**
   * Runs `args`, printed as `shown` (where they hold revisions, which differ between clusters), and
   * its output with `rewrite` applied (for revisions in the output).
   */
  async #step(
    args: readonly string[],
    options: { stdin?: string; shown?: readonly string[]; rewrite?: (output: string) => string } = {},
  ): Promise<EtcdctlRun> {
    const run = await etcdctl(this.#target, args, options.stdin === undefined ? {} : { stdin: options.stdin });
    if (options.stdin !== undefined)
      this.transcript.push(
        ...options.stdin
          .trimEnd()
          .split("\n")
          .map((l) => `< ${l}`),
      );
    this.#print(options.shown ?? args, run, (options.rewrite ?? ((out) => out))(run.stdout));
    return run;
  }

  /** A write whose header revision the script names, for later reads at that revision. */
  async #revisionOf(args: readonly string[], name: string): Promise<number> {
    const run = await etcdctl(this.#target, [...args, "-w", "json"]);
    if (run.code !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${run.error}`);
    // etcdctl prints the header's int64 revision as a JSON number.
    const revision = (JSON.parse(run.stdout) as { header: { revision: number } }).header.revision;
    this.transcript.push(`$ etcdctl ${args.join(" ")}   (revision REV_${name})`);
    return revision;
  }

  async #members(): Promise<void> {
    const run = await etcdctl(this.#target, ["member", "list"]);
    for (const line of run.stdout.trim().split("\n")) {
      const [id, , name] = line.split(", ");
      const index = this.#cluster.members.findIndex((m) => m.name === name);
      if (id !== undefined && index >= 0) this.#names.add(id, `ID${index + 1}`);
    }
    this.#print(["member", "list"], run, run.stdout, { sorted: true });
  }

  async #endpointStatus(): Promise<StatusLine[]> {
    const run = await etcdctl(this.#target, ["endpoint", "status"]);
    // Version, size, term and indexes differ between any two clusters; the rest must not.
    const shape = run.stdout.replace(
      /^(\S+, \S+), [^,]+, [^,]+, (true|false), (true|false), \d+, \d+, \d+, (.*)$/gm,
      "$1, VERSION, SIZE, $2, $3, TERM, INDEX, INDEX, $4",
    );
    // Which member leads differs between runs: each line says only whether the id is the endpoint's own.
    const own = this.#names
      .apply(shape)
      .replace(/^CLIENT(\d+), ID(\d+),/gm, (line, a: string, b: string) => (a === b ? "ENDPOINT, ITS_ID," : line));
    this.#print(["endpoint", "status"], run, own, { sorted: true });
    return parseStatus(run.stdout);
  }

  async #keys(): Promise<void> {
    const first = await this.#revisionOf(["put", "foo", "bar"], "FIRST_PUT");
    await this.#step(["put", "foo", "bar2"]);
    await this.#step(["put", "foo2", "baz"]);
    await this.#step(["put", "zoo", "1"]);
    await this.#step(["get", "foo"]);
    await this.#step(["get", "foo", "--prefix"]);
    await this.#step(["get", "foo", "--prefix", "--keys-only"]);
    await this.#step(["get", "foo", "--prefix", "--print-value-only"]);
    await this.#step(["get", "a", "g"]);
    await this.#step(["get", "foo", "--from-key", "--limit=2"]);
    await this.#step(["get", "foo", "--prefix", "--sort-by=VALUE", "--order=DESCEND"]);
    await this.#step(["get", "nothing"]);
    await this.#step(["get", "foo", `--rev=${first}`], { shown: ["get", "foo", "--rev=REV_FIRST_PUT"] });
    await this.#step(["get", "foo", `--rev=${first + 1000}`], { shown: ["get", "foo", "--rev=REV_FIRST_PUT+1000"] });
    await this.#step(["del", "foo2"]);
    await this.#step(["del", "nothing"]);
    await this.#step(["del", "zoo", "--prev-kv"]);
    await this.#step(["put", "pre/a", "1"]);
    await this.#step(["put", "pre/b", "2"]);
    await this.#step(["del", "pre/", "--prefix"]);
    await this.#step(["put", "foo", "bar3", "--prev-kv"]);
  }

  async #txn(): Promise<void> {
    await this.#step(["txn"], { stdin: 'value("foo") = "bar3"\n\nput foo bar4\nget foo\n\nput foo nope\n\n' });
    await this.#step(["txn"], { stdin: 'mod("foo") < "1"\n\nput foo x\n\nget foo\ndel nothing\n\n' });
    await this.#step(["txn"], { stdin: 'version("foo") > "1"\ncreate("foo") > "0"\n\nput t1 a\nput t2 b\n\n\n' });
    await this.#step(["get", "t", "--prefix"]);
    await this.#step(["txn"], { stdin: "\nput dup 1\nput dup 2\n\n\n" });
  }

  async #watch(): Promise<void> {
    // From a named revision, so the watch sees the puts however late etcdctl's stream opens.
    const start = (await this.#revisionOf(["put", "w/start", "0"], "WATCH_START")) + 1;
    const watch = new EtcdctlWatch(this.#target, ["w/", "--prefix", `--rev=${start}`]);
    await this.#step(["put", "w/1", "a"]);
    await this.#step(["put", "w/2", "b"]);
    await this.#step(["del", "w/1"]);
    const seen = await eventually(() => Promise.resolve(/DELETE\nw\/1\n/.test(watch.output) ? true : undefined));
    const output = await watch.stop();
    this.transcript.push(`$ etcdctl watch w/ --prefix --rev=REV_WATCH_START+1   (in the background, stopped now)`);
    this.transcript.push(...output.trimEnd().split("\n"));
    if (seen === undefined) this.transcript.push("(the watch did not see the delete within 20 s)");
  }

  async #leases(): Promise<void> {
    const grant = await etcdctl(this.#target, ["lease", "grant", "60"]);
    const lease = /^lease (\w+) granted/.exec(grant.stdout)?.[1];
    if (lease === undefined) {
      // The rest of the section needs the lease: the transcript shows why it stops here.
      this.#print(["lease", "grant", "60"], grant);
      return;
    }
    this.#names.add(lease, "LEASE");
    this.#print(["lease", "grant", "60"], grant);
    await this.#step(["put", "lk", "v", `--lease=${lease}`]);
    await this.#step(["put", "lk2", "v", `--lease=${lease}`]);
    const live = await etcdctl(this.#target, ["lease", "timetolive", lease, "--keys"]);
    // The remaining time depends on when the command ran; within the TTL is what must hold.
    this.#print(
      ["lease", "timetolive", lease, "--keys"],
      live,
      live.stdout.replace(/remaining\((5\d|60)s\)/, "remaining(50..60s)"),
    );
    await this.#step(["lease", "keep-alive", "--once", lease]);
    await this.#step(["lease", "list"]);
    await this.#step(["get", "lk", "--prefix"]);
    await this.#step(["lease", "revoke", lease]);
    await this.#step(["get", "lk", "--prefix"]);
    await this.#step(["lease", "timetolive", lease]);
    await this.#step(["lease", "revoke", lease]);
    await this.#step(["put", "x", "y", "--lease=1234abcd"]);
  }

  async #membership(): Promise<void> {
    // etcd refuses a change until every member has been connected for a few seconds: retried, as an operator would.
    const addArgs = ["member", "add", "spare", "--learner", `--peer-urls=${this.#cluster.sparePeerUrl}`];
    const add = await eventually(async () => {
      const run = await etcdctl(this.#target, addArgs);
      return run.error.includes("unhealthy cluster") ? undefined : run;
    });
    if (add === undefined) {
      this.transcript.push("(member add was refused as an unhealthy cluster for 20 s)");
      return;
    }
    const added = /^Member +(\w+) added to cluster +(\w+)/.exec(add.stdout);
    if (added === null) {
      this.#print(addArgs, add);
      return;
    }
    this.#names.add(added[1]!, "SPARE_ID");
    this.#names.add(added[2]!, "CLUSTER_ID");
    // etcdctl prints the cluster's members in the order the server listed them.
    const printed = add.stdout
      .replace(/^Member +(\w+) added to cluster +/, "Member $1 added to cluster ")
      .replace(
        /^(ETCD_INITIAL_CLUSTER=")([^"]*)"/m,
        (_, head: string, list: string) => `${head}${this.#names.apply(list).split(",").sort().join(",")}"`,
      );
    this.#print(addArgs, add, printed);
    const list = await etcdctl(this.#target, ["member", "list"]);
    this.#print(["member", "list"], list, list.stdout, { sorted: true });
    // etcdctl pads ids to 16 hex digits with spaces: raftkv's 32-bit ids print narrower.
    const unpadded = (output: string): string => output.replace(/ +/g, " ");
    await this.#step(["member", "promote", added[1]!]);
    await this.#step(["member", "remove", added[1]!], { rewrite: unpadded });
    const after = await etcdctl(this.#target, ["member", "list"]);
    this.#print(["member", "list"], after, after.stdout, { sorted: true });
    await this.#step(["member", "remove", added[1]!], { rewrite: unpadded });
  }

  async #moveLeader(): Promise<void> {
    const status = parseStatus((await etcdctl(this.#target, ["endpoint", "status"])).stdout);
    const leader = status.find((s) => s.isLeader);
    const target = status.find((s) => !s.isLeader);
    if (leader === undefined || target === undefined) {
      this.transcript.push("(endpoint status shows no leader and follower)");
      return;
    }
    const run = await etcdctl(this.#target, ["move-leader", target.id], { endpoints: [leader.endpoint] });
    this.transcript.push(`$ etcdctl --endpoints=LEADER move-leader TARGET_ID`);
    // Which member leads differs between clusters: the ids are named by their part here.
    const named = run.stdout.replace(leader.id, "LEADER_ID").replace(target.id, "TARGET_ID");
    this.transcript.push(...named.trimEnd().split("\n"));
    if (run.code !== 0) this.transcript.push(`(exit ${run.code}) ${run.error}`);
    const moved = await eventually(async () => {
      const now = parseStatus((await etcdctl(this.#target, ["endpoint", "status"])).stdout);
      return now.find((s) => s.isLeader)?.id === target.id ? true : undefined;
    });
    this.transcript.push(
      moved === undefined ? "(TARGET_ID did not lead within 20 s)" : "(endpoint status shows TARGET_ID as the leader)",
    );
  }

  async #compaction(): Promise<void> {
    const revision = await this.#revisionOf(["put", "c", "1"], "COMPACT");
    await this.#step(["put", "c", "2"]);
    const named = (output: string): string => output.replace(new RegExp(`\\b${revision}\\b`, "g"), "REV_COMPACT");
    await this.#step(["compaction", String(revision)], { shown: ["compaction", "REV_COMPACT"], rewrite: named });
    await this.#step(["get", "c", `--rev=${revision - 1}`], { shown: ["get", "c", "--rev=REV_COMPACT-1"] });
    await this.#step(["get", "c", `--rev=${revision}`], { shown: ["get", "c", "--rev=REV_COMPACT"] });
    await this.#step(["compaction", String(revision)], { shown: ["compaction", "REV_COMPACT"], rewrite: named });
  }
}
