import type { Command } from "commander";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";

/** `raftkv del K`: deletes K; deleting a key that does not exist is not an error. */
export function registerDel(program: Command, io: CliIo): void {
  addClientOptions(program.command("del").alias("delete").description("delete a key").argument("<key>")).action(
    async (key: string, _options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const result = await withClient(flags, (client) => client.delete(key));
      const human = result.deleted ? `deleted (revision ${result.revision})` : "not found (nothing deleted)";
      print(io, flags, human, { revision: result.revision, deleted: result.deleted ? 1 : 0 });
    },
  );
}
