import type { Command } from "commander";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";

/** `raftkv put K V`: writes V under K. */
export function registerPut(program: Command, io: CliIo): void {
  addClientOptions(program.command("put").description("write a value").argument("<key>").argument("<value>")).action(
    async (key: string, value: string, _options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const result = await withClient(flags, (client) => client.put(key, value));
      print(io, flags, `OK (revision ${result.revision})`, result);
    },
  );
}
