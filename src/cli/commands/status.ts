import type { Command } from "commander";
import { AuthenticationError, RaftkvError, type Status } from "../../client/index.js";
import {
  addClientOptions,
  CliFailure,
  clientFlags,
  exitCodes,
  print,
  withClient,
  type CliIo,
  type ClientFlags,
} from "../context.js";
import { oneLine, table } from "../format.js";
import type { ClusterMember } from "../../server/dashboard.js";

type Row = { endpoint: string; status: Status } | { endpoint: string; error: { code: string; message: string } };

const header = ["ENDPOINT", "ID", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "SNAPSHOT"];

/**
 * `raftkv status`: the whole cluster, one row a member (role, indexes, lag behind the leader), as
 * gathered by the first endpoint that answers GET /v1/cluster; from a server without that route,
 * each endpoint's own view. Exit 1 only when no node answers.
 */
export function registerStatus(program: Command, io: CliIo): void {
  addClientOptions(program.command("status").description("show every member: role, term, leader, indexes, lag")).action(
    async (_options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const cluster = await clusterView(flags);
      if (cluster !== undefined) {
        printCluster(io, flags, cluster.endpoint, cluster.view);
        return;
      }
      const rows = await withClient(flags, (client) =>
        Promise.all(
          flags.endpoints.map(async (endpoint): Promise<Row> => {
            try {
              return { endpoint, status: await client.status({ endpoint }) };
            } catch (error) {
              if (!(error instanceof RaftkvError)) throw error;
              return { endpoint, error: { code: error.code, message: oneLine(error.message) } };
            }
          }),
        ),
      );
      const human = table(
        header,
        rows.map((row) =>
          "status" in row
            ? [
                row.endpoint,
                row.status.id,
                row.status.role,
                String(row.status.term),
                row.status.leader ?? "-",
                String(row.status.commitIndex),
                String(row.status.appliedIndex),
                String(row.status.lastIndex),
                String(row.status.snapshotIndex),
              ]
            : [row.endpoint, "-", `unreachable (${row.error.code})`],
        ),
      );
      print(io, flags, human, rows);
      if (rows.every((row) => "error" in row)) throw new CliFailure(exitCodes.failed, "no node answered");
    },
  );
}

interface ClusterView {
  readonly id: string;
  readonly leader: { readonly id: string; readonly term: number } | null;
  readonly members: readonly ClusterMember[];
}

/** The first endpoint's answer to GET /v1/cluster, trying each in turn. */
async function clusterView(flags: ClientFlags): Promise<{ endpoint: string; view: ClusterView } | undefined> {
  const headers = await authorization(flags);
  for (const endpoint of flags.endpoints) {
    try {
      const response = await fetch(`http://${endpoint}/v1/cluster`, {
        headers,
        signal: AbortSignal.timeout(Math.ceil(flags.timeout)),
      });
      if (!response.ok) continue;
      // Anything may answer on a port: only the shape of a raftkv cluster view counts.
      const view: unknown = await response.json();
      if (isClusterView(view)) return { endpoint, view };
    } catch {
      // Unreachable or not a raftkv server: try the next.
    }
  }
  return undefined;
}

/** /v1/cluster is fetched here, not by the client: it needs the token too when auth is enabled. */
async function authorization(flags: ClientFlags): Promise<Record<string, string>> {
  const auth = flags.auth;
  if (auth === undefined) return {};
  try {
    const token = "token" in auth ? auth.token : (await withClient(flags, (c) => c.auth.authenticate()))?.token;
    return token === undefined ? {} : { authorization: `Bearer ${token}` };
  } catch (error) {
    // Wrong credentials are the answer; no member reachable is for the per-endpoint table to show.
    if (error instanceof AuthenticationError || !(error instanceof RaftkvError)) throw error;
    return {};
  }
}

function printCluster(io: CliIo, flags: ClientFlags, endpoint: string, view: ClusterView): void {
  const text = (n: number | null): string => (n === null ? "-" : String(n));
  const rows = view.members.map((m) => {
    const addr = m.clientAddr ?? "?";
    if (!m.reachable)
      return { endpoint: addr, id: m.id, error: { code: "unreachable", message: m.error ?? "unreachable" } };
    return {
      endpoint: addr,
      status: {
        id: m.id,
        role: m.learner ? "learner" : m.role,
        term: m.term,
        leader: m.leader,
        commitIndex: m.commitIndex,
        appliedIndex: m.appliedIndex,
        lastIndex: m.lastIndex,
        snapshotIndex: m.snapshotIndex,
      },
      lag: m.lag,
    };
  });
  const human = table(
    [...header, "LAG"],
    view.members.map((m) =>
      m.reachable
        ? [
            m.clientAddr ?? "?",
            m.id,
            m.learner ? "learner" : (m.role ?? "-"),
            text(m.term),
            m.leader ?? "-",
            text(m.commitIndex),
            text(m.appliedIndex),
            text(m.lastIndex),
            text(m.snapshotIndex),
            text(m.lag),
          ]
        : [m.clientAddr ?? "?", m.id, `unreachable (${oneLine(m.error ?? "no answer")})`],
    ),
  );
  const leader = view.leader === null ? "no leader" : `leader ${view.leader.id}, term ${view.leader.term}`;
  print(
    io,
    flags,
    `${human}\n(as seen by ${view.id} at ${endpoint}; ${leader}; LAG = entries behind the leader's log)`,
    rows,
  );
}

function isClusterView(value: unknown): value is ClusterView {
  return typeof value === "object" && value !== null && Array.isArray((value as { members?: unknown }).members);
}
