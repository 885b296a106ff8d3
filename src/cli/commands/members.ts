import type { Command } from "commander";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";
import { membersTable } from "../format.js";

/** `raftkv members`: the cluster's members. */
export function registerMembers(program: Command, io: CliIo): void {
  addClientOptions(program.command("members").description("list the cluster's members")).action(
    async (_options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const members = await withClient(flags, (client) => client.members());
      print(io, flags, membersTable(members), { members });
    },
  );
}
