/**
 * The fault run's secure mode (docs/security.md): TLS on the client ports and mutual TLS on the peer
 * links, from throwaway certificates (cluster_certificates.ts), and auth on, with the workload running as a user that is not root
 * (so every request passes the permission check) and re-authenticating on its own when told to.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RaftkvClientOptions } from "raftkv/client";
import { writeClusterCertificates } from "../cluster_certificates.js";
import { request, until, type ClientAccess, type Member } from "../harness.js";
import type { ProxyTls } from "./proxy.js";

/** What every client of the run adds to its options: the CA, and the workload's credentials. */
export type ClientAccessOptions = Pick<RaftkvClientOptions, "tls" | "auth">;

const workload = { user: "fault", password: "fault-run-password" };

export interface SecureRun {
  /** Holds the certificates; the caller removes it. */
  readonly dir: string;
  readonly serveArgs: readonly string[];
  /** How the harness reaches the members; its token is set by enableAuth. */
  readonly access: ClientAccess;
  readonly clientOptions: ClientAccessOptions;
  /** The fault proxy's certificate on the peer links. */
  readonly proxyTls: ProxyTls;
}

export async function secureRun(): Promise<SecureRun> {
  const dir = await mkdtemp(join(tmpdir(), "raftkv-fault-tls-"));
  const made = await writeClusterCertificates(dir);
  return {
    dir,
    // The harness's own token lasts the run; the workload's clients re-authenticate when told to.
    serveArgs: [...made.serveArgs, "--auth-token-ttl", "1h"],
    access: { ca: made.clientCa.certPem },
    clientOptions: { tls: { ca: made.clientCa.certPem }, auth: workload },
    proxyTls: made.peer,
  };
}

/** Root, the workload's user with readwrite on every key, auth on; the harness then uses its token. */
export async function enableAuth(member: Member, access: ClientAccess): Promise<void> {
  const post = (path: string, body: unknown): Promise<unknown> =>
    until(
      `POST ${path}`,
      async () => {
        const r = await request(member.clientAddr, "POST", path, JSON.stringify(body), {
          "content-type": "application/json",
        });
        // 409: an earlier attempt whose answer was lost did it.
        return r.status === 200 || r.status === 409 ? r.body : undefined;
      },
      60_000,
    );
  await post("/v1/auth/users", { name: "root", password: "root-of-the-fault-run" });
  await post("/v1/auth/users", { name: workload.user, password: workload.password });
  await post("/v1/auth/roles", { name: "workload" });
  await post("/v1/auth/roles/workload/permissions", { type: "readwrite", prefix: "" });
  await post(`/v1/auth/users/${workload.user}/roles`, { role: "workload" });
  await post("/v1/auth/enable", {});
  const { token } = (await post("/v1/auth/authenticate", { name: workload.user, password: workload.password })) as {
    token: string;
  };
  access.token = token;
}
