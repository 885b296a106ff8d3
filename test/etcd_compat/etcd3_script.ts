/**
 * The `etcd3` npm client's script of issue 17: KV (put, get, prefix, counts, previous values,
 * deletes, txns), a prefix watch, leases with attached keys, its lock recipe and its election
 * recipe. Each step appends what the client returned, with what must differ between clusters
 * (ids, revisions) left out, so raftkv's transcript can be compared with etcd's.
 */
import { Etcd3, EtcdLockFailedError, type IKeyValue } from "etcd3";
import type { CompatCluster } from "./normalize.js";

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function kvText(kv: IKeyValue): string {
  return `${kv.key.toString()}=${kv.value.toString()} version=${kv.version} lease=${kv.lease === "0" ? "none" : "some"}`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}

export async function etcd3Script(cluster: CompatCluster): Promise<string[]> {
  const out: string[] = [];
  const log = (line: string): void => void out.push(line);
  const client = new Etcd3({ hosts: cluster.members.map((m) => m.clientUrl), dialTimeout: 5_000 });
  try {
    await kv(client, log);
    await txn(client, log);
    await watch(client, log);
    await leases(client, log);
    await locks(client, log);
    await elections(client, log);
  } finally {
    client.close();
  }
  return out;
}

type Log = (line: string) => void;

async function kv(client: Etcd3, log: Log): Promise<void> {
  await client.put("e3/foo").value("bar");
  log(`get e3/foo: ${await client.get("e3/foo").string()}`);
  await client.put("e3/foo2").value("baz");
  await client.put("e3/zoo").value("z");
  log(`getAll prefix e3/foo: ${JSON.stringify(await client.getAll().prefix("e3/foo").strings())}`);
  log(`getAll prefix e3/ keys: ${JSON.stringify(await client.getAll().prefix("e3/").keys())}`);
  log(`getAll prefix e3/ count: ${await client.getAll().prefix("e3/").count()}`);
  log(`getAll prefix e3/ limit 1: ${JSON.stringify(await client.getAll().prefix("e3/").limit(1).keys())}`);
  const sorted = await client.getAll().prefix("e3/").sort("Value", "Descend").strings();
  log(`getAll sorted by value descending: ${JSON.stringify(sorted)}`);
  const previous = await client.put("e3/foo").value("bar2").getPrevious();
  log(`put with previous: ${previous === null ? "null" : kvText(previous)}`);
  const exec = await client.get("e3/foo").exec();
  log(`get exec: ${exec.kvs.map(kvText).join(", ")} more=${exec.more} count=${exec.count}`);
  log(`get missing: ${await client.get("e3/missing").string()}`);
  const deleted = await client.delete().key("e3/foo2").exec();
  log(`delete e3/foo2: deleted=${deleted.deleted}`);
  const range = await client.delete().prefix("e3/").getPrevious();
  log(`delete prefix e3/ previous: ${range.map(kvText).join(", ")}`);
  log(`count after: ${await client.getAll().prefix("e3/").count()}`);
}

async function txn(client: Etcd3, log: Log): Promise<void> {
  await client.put("t3/a").value("1");
  const ok = await client
    .if("t3/a", "Value", "==", "1")
    .then(client.put("t3/a").value("2"))
    .else(client.get("t3/a"))
    .commit();
  log(`txn value == 1: succeeded=${ok.succeeded} responses=${ok.responses.length}`);
  const no = await client
    .if("t3/a", "Version", ">", 5)
    .then(client.put("t3/a").value("3"))
    .else(client.get("t3/a"))
    .commit();
  const got = no.responses[0]?.response_range?.kvs.map(kvText).join(",") ?? "none";
  log(`txn version > 5: succeeded=${no.succeeded} else get: ${got}`);
  const absent = await client.if("t3/b", "Create", "==", 0).then(client.put("t3/b").value("new")).commit();
  log(`txn create == 0 on an absent key: succeeded=${absent.succeeded}`);
  log(`t3/b: ${await client.get("t3/b").string()}`);
  try {
    await client.if("t3/a", "Mod", ">", 0).then(client.put("t3/x").value("1"), client.put("t3/x").value("2")).commit();
    log("txn with a duplicate key: accepted");
  } catch (error) {
    log(`txn with a duplicate key: ${errorName(error)}`);
  }
}

async function watch(client: Etcd3, log: Log): Promise<void> {
  const events: string[] = [];
  const watcher = await client.watch().prefix("w3/").create();
  watcher.on("put", (kv) => events.push(`put ${kv.key.toString()}=${kv.value.toString()}`));
  watcher.on("delete", (kv) => events.push(`delete ${kv.key.toString()}`));
  await client.put("w3/a").value("1");
  await client.put("w3/b").value("2");
  await client.delete().key("w3/a");
  await eventually("the watch to see three events", () => (events.length >= 3 ? true : undefined));
  await watcher.cancel();
  log(`watch events: ${JSON.stringify(events)}`);
}

async function leases(client: Etcd3, log: Log): Promise<void> {
  const lease = client.lease(30, { autoKeepAlive: false });
  await lease.put("l3/a").value("1");
  await lease.put("l3/b").value("2");
  log(`keys on the lease: ${JSON.stringify(await client.getAll().prefix("l3/").keys())}`);
  const alive = await lease.keepaliveOnce();
  log(`keepalive once: TTL=${alive.TTL}`);
  const id = await lease.grant();
  const live = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
  const keys = live.keys.map((key) => key.toString()).sort();
  log(
    `timeToLive: granted ${live.grantedTTL}, within it: ${Number(live.TTL) > 0 && Number(live.TTL) <= 30}, keys ${JSON.stringify(keys)}`,
  );
  const listed = await client.leaseClient.leaseLeases();
  log(`leases lists it: ${listed.leases.some((l) => l.ID === id)}`);
  await lease.revoke();
  log(`keys after revoke: ${JSON.stringify(await client.getAll().prefix("l3/").keys())}`);
  try {
    await client.put("l3/c").value("1").lease("123456");
    log("put with a missing lease: accepted");
  } catch (error) {
    log(`put with a missing lease: ${errorName(error)}`);
  }
}

async function locks(client: Etcd3, log: Log): Promise<void> {
  const first = await client.lock("lk3").ttl(10).acquire();
  log("first lock acquired");
  try {
    await client.lock("lk3").ttl(10).acquire();
    log("second lock acquired while the first is held");
  } catch (error) {
    log(
      `second lock while the first is held: ${error instanceof EtcdLockFailedError ? "EtcdLockFailedError" : errorName(error)}`,
    );
  }
  await first.release();
  log("first lock released");
  const second = await client.lock("lk3").ttl(10).acquire();
  log("second lock acquired after the release");
  await second.release();
  const ran = await client.lock("lk3").do(() => Promise.resolve("ran inside the lock"));
  log(`lock.do: ${ran}`);
}

async function elections(client: Etcd3, log: Log): Promise<void> {
  const election = client.election("el3", 10);
  const observer = await election.observe();
  const changes: (string | undefined)[] = [];
  observer.on("change", (leader) => changes.push(leader));
  const a = election.campaign("candidate-a");
  await a.wait();
  log(`after a campaigns: leader=${await election.leader()}`);
  const b = election.campaign("candidate-b");
  let bElected = false;
  b.on("elected", () => (bElected = true));
  // b waits behind a: etcd's recipe makes it wait for a's key to go.
  await client.get("el3").exec();
  log(`b elected while a leads: ${bElected}`);
  await a.proclaim("candidate-a2");
  await eventually("the observer to see the proclaimed value", () =>
    changes.includes("candidate-a2") ? true : undefined,
  );
  await a.resign();
  await b.wait();
  log(`after a resigns: leader=${await election.leader()}`);
  await eventually("the observer to see b", () => (changes.includes("candidate-b") ? true : undefined));
  // Whether the observer shows candidate-a before candidate-a2 is a race in etcd itself: its first
  // watch starts at the revision it read, which etcd serves as an "unsynced" watch caught up by a
  // loop every 100 ms, so a, b and a2's puts usually arrive in one response and the recipe reports
  // only the last (a2); raftkv sends the catch-up at once, so the recipe sees a first. What must
  // hold either way is a2, then b.
  const distinct = changes.filter((v, i) => v !== changes[i - 1] && !(i === 0 && v === "candidate-a"));
  log(`observer saw: ${JSON.stringify(distinct)}`);
  await b.resign();
  await observer.cancel();
}
