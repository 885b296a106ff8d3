import type { Command } from "commander";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";

/** `raftkv transfer-leader ID`: returns once ID leads. */
export function registerTransferLeader(program: Command, io: CliIo): void {
  addClientOptions(
    program.command("transfer-leader").description("hand leadership to a member").argument("<id>"),
  ).action(async (id: string, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    await withClient(flags, (client) => client.transferLeader(id));
    print(io, flags, `leader is now ${id}`, { leader: id });
  });
}
