import type { Command } from "commander";
import { addClientOptions, clientFlags, print, withClient, type CliIo } from "../context.js";

/** `raftkv auth enable|disable|status` (docs/api.md, "Authentication"). */
export function registerAuth(program: Command, io: CliIo): void {
  const auth = program.command("auth").description("turn authentication on or off, or show whether it is on");
  const enable = auth.command("enable").description("require a token on every request (the user root must exist)");
  addClientOptions(enable).action(async (_options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const answer = await withClient(flags, (client) => client.auth.enable());
    print(io, flags, `auth enabled (auth revision ${answer.revision})`, answer);
  });
  const disable = auth.command("disable").description("serve every request without a token again");
  addClientOptions(disable).action(async (_options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const answer = await withClient(flags, (client) => client.auth.disable());
    print(io, flags, `auth disabled (auth revision ${answer.revision})`, answer);
  });
  const status = auth.command("status").description("show whether auth is enabled");
  addClientOptions(status).action(async (_options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const answer = await withClient(flags, (client) => client.auth.status());
    print(io, flags, `auth ${answer.enabled ? "enabled" : "disabled"} (auth revision ${answer.revision})`, answer);
  });
}
