import type { Command } from "commander";
import { RaftkvError, type Status } from "../../client/index.js";
import { addClientOptions, CliFailure, clientFlags, exitCodes, print, withClient, type CliIo } from "../context.js";
import { oneLine, table } from "../format.js";

type Row = { endpoint: string; status: Status } | { endpoint: string; error: { code: string; message: string } };

/** `raftkv status`: each endpoint's own view, one row a node; exit 1 only when no node answers. */
export function registerStatus(program: Command, io: CliIo): void {
  addClientOptions(program.command("status").description("show each node's view: role, term, leader, indexes")).action(
    async (_options: unknown, command: Command) => {
      const flags = clientFlags(command);
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
        ["ENDPOINT", "ID", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "SNAPSHOT"],
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
