/** What the user and role commands share: a management call's output, and listing names. */
import type { Command } from "commander";
import type { AuthRevision, RaftkvClient } from "../../client/index.js";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";

/** Runs a management call and prints `done` (or, with --json, its answer). */
export async function change(
  io: CliIo,
  command: Command,
  done: string,
  call: (client: RaftkvClient) => Promise<AuthRevision>,
): Promise<void> {
  const flags = clientFlags(command);
  const answer = await withClient(flags, call);
  print(io, flags, `${done} (auth revision ${answer.revision})`, answer);
}

/** `GROUP list`: one name a line, or `{"<field>": [...]}` with --json. */
export function registerList(
  group: Command,
  io: CliIo,
  field: "users" | "roles",
  list: (client: RaftkvClient) => Promise<string[]>,
): void {
  addClientOptions(group.command("list").description(`list the ${field}`)).action(
    async (_options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const names = await withClient(flags, list);
      print(io, flags, names.join("\n"), { [field]: names });
    },
  );
}
