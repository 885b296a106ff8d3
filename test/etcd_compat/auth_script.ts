/**
 * The auth script of issue 17: etcdctl's user, role and permission commands, `auth enable`, reads
 * as root, as a user with a read permission on a prefix and as no one, the refusals etcd users meet
 * (no user, a wrong password, a missing permission, a user calling root's commands, removing root,
 * a watch of a key the user may not read, revoking a lease attached to a key the user may not write),
 * then `auth disable` and a clean-up, so that a script run after it finds the cluster open. Each
 * step adds the command and its output to a transcript held to the one a real etcd gave
 * (auth.golden.txt).
 */
import { etcdctl, type EtcdctlRun, type EtcdctlTarget } from "./etcdctl.js";
import { Placeholders, type CompatCluster } from "./normalize.js";

const root = "root:root-pw";
const alice = "alice:alice-pw";

export async function authScript(cluster: CompatCluster): Promise<string[]> {
  const transcript: string[] = [];
  const target: EtcdctlTarget = {
    endpoints: cluster.members.map((m) => m.clientUrl),
    flags: cluster.etcdctlFlags ?? [],
  };
  const names = new Placeholders(cluster);
  const run = (args: readonly string[], user?: string, stopAfterMs?: number): Promise<EtcdctlRun> =>
    etcdctl(
      target,
      user === undefined ? args : [`--user=${user}`, ...args],
      stopAfterMs === undefined ? {} : { stopAfterMs },
    );
  const print = (args: readonly string[], user: string | undefined, result: EtcdctlRun): void => {
    transcript.push(`$ etcdctl ${user === undefined ? "" : `--user=${user} `}${names.apply(args.join(" "))}`);
    transcript.push(...names.apply(result.stdout).replace(/\n+$/, "").split("\n"));
    // A watch's refusal is two lines, and the golden file is read back one line an element.
    if (result.code !== 0) transcript.push(...`(exit ${result.code}) ${names.apply(result.error)}`.split("\n"));
  };
  const step = async (args: readonly string[], user?: string, stopAfterMs?: number): Promise<void> =>
    print(args, user, await run(args, user, stopAfterMs));

  await step(["user", "add", root]);
  await step(["user", "add", alice]);
  await step(["user", "add", alice]);
  await step(["role", "add", "reader"]);
  await step(["role", "grant-permission", "reader", "read", "auth/", "--prefix"]);
  await step(["role", "grant-permission", "reader", "readwrite", "auth/cfg"]);
  await step(["role", "grant-permission", "nobody", "read", "x"]);
  await step(["role", "get", "reader"]);
  await step(["user", "grant-role", "alice", "reader"]);
  await step(["user", "grant-role", "alice", "nobody"]);
  await step(["user", "get", "alice"]);
  await step(["user", "list"]);
  await step(["role", "list"]);
  await step(["put", "auth/k", "v"]);
  await step(["put", "other", "o"]);

  await step(["auth", "enable"]);
  await step(["get", "auth/k"]);
  await step(["get", "auth/k"], root);
  await step(["get", "auth/", "--prefix"], alice);
  await step(["get", "other"], alice);
  await step(["get", "auth/k"], "alice:wrong-pw");
  await step(["put", "auth/cfg", "c"], alice);
  await step(["put", "auth/k", "v2"], alice);
  await watchAndRevokeAsAlice({ run, print, step }, names);
  await step(["user", "list"], alice);
  await step(["user", "list"], root);
  await step(["role", "revoke-permission", "reader", "auth/cfg"], root);
  await step(["role", "revoke-permission", "reader", "auth/cfg"], root);
  await step(["role", "get", "reader"], root);
  await step(["user", "revoke-role", "alice", "root"], root);
  await step(["user", "delete", "root"], root);
  await step(["auth", "disable"], root);

  await step(["get", "auth/", "--prefix"]);
  await step(["user", "delete", "alice"]);
  await step(["user", "delete", "alice"]);
  await step(["user", "delete", "root"]);
  await step(["role", "delete", "reader"]);
  await step(["role", "delete", "root"]);
  await step(["del", "auth/", "--prefix"]);
  await step(["del", "other"]);
  return transcript;
}

/** The script's runner: `run` a command, `print` it and its output, or both in one `step`. */
interface Steps {
  readonly run: (args: readonly string[], user?: string, stopAfterMs?: number) => Promise<EtcdctlRun>;
  readonly print: (args: readonly string[], user: string | undefined, result: EtcdctlRun) => void;
  readonly step: (args: readonly string[], user?: string, stopAfterMs?: number) => Promise<void>;
}

async function watchAndRevokeAsAlice({ run, print, step }: Steps, names: Placeholders): Promise<void> {
  // etcd refuses at creation a watch of keys the user may not all read (etcdctl then exits); a
  // watch the server accepted would run until stopped, which the transcript would show.
  await step(["watch", "other"], alice, 10_000);
  await step(["watch", "auth/k", "other"], alice, 10_000);
  // Revoking a lease deletes its keys, so etcd needs write permission on every key attached.
  const grant = await run(["lease", "grant", "60"], root);
  const lease = /^lease (\w+) granted/.exec(grant.stdout)?.[1];
  if (lease !== undefined) names.add(lease, "LEASE");
  print(["lease", "grant", "60"], root, grant);
  if (lease !== undefined) {
    await step(["put", "leased", "l", `--lease=${lease}`], root);
    await step(["lease", "revoke", lease], alice);
    await step(["get", "leased"], root);
    await step(["lease", "revoke", lease], root);
    await step(["get", "leased"], root);
  }
}
