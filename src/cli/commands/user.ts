import type { Command } from "commander";
import { addClientOptions, CliFailure, clientFlags, exitCodes, print, withClient, type CliIo } from "../context.js";
import { change, registerList } from "./auth_management.js";

/**
 * `raftkv user add|delete|passwd|grant-role|revoke-role|list|get`: the users of docs/api.md,
 * "Authentication". In `add` and `passwd` the new password is `--password` (new_password.ts says
 * which one when the caller's is given too) or `--new-password`.
 */
export function registerUser(program: Command, io: CliIo): void {
  const user = program.command("user").description("manage the users of authentication");
  registerChanges(user, io);
  registerQueries(user, io);
}

function newPassword(options: { newPassword?: string }, subcommand: string): string {
  if (options.newPassword === undefined) {
    throw new CliFailure(
      exitCodes.usage,
      `user ${subcommand} needs the new password: --password P (or --new-password P)`,
    );
  }
  return options.newPassword;
}

function registerChanges(user: Command, io: CliIo): void {
  const add = user
    .command("add")
    .description("add a user (before auth is enabled, add root first: it needs no credentials)")
    .argument("<name>")
    .option("--new-password <password>", "the new user's password (so is a --password not right after --user NAME)");
  addClientOptions(add).action((name: string, options: { newPassword?: string }, command: Command) =>
    change(io, command, `user ${name} added`, (client) => client.auth.user.add(name, newPassword(options, "add"))),
  );
  const passwd = user
    .command("passwd")
    .description("set a user's password; its earlier tokens stop working")
    .argument("<name>")
    .option("--new-password <password>", "the new password (so is a --password not right after --user NAME)");
  addClientOptions(passwd).action((name: string, options: { newPassword?: string }, command: Command) =>
    change(io, command, `password of ${name} changed`, (client) =>
      client.auth.user.passwd(name, newPassword(options, "passwd")),
    ),
  );
  const remove = user.command("delete").description("delete a user").argument("<name>");
  addClientOptions(remove).action((name: string, _options: unknown, command: Command) =>
    change(io, command, `user ${name} deleted`, (client) => client.auth.user.delete(name)),
  );
  const grant = user.command("grant-role").description("give a user a role").argument("<name>").argument("<role>");
  addClientOptions(grant).action((name: string, role: string, _options: unknown, command: Command) =>
    change(io, command, `role ${role} granted to ${name}`, (client) => client.auth.user.grantRole(name, role)),
  );
  const revoke = user
    .command("revoke-role")
    .description("take a role from a user")
    .argument("<name>")
    .argument("<role>");
  addClientOptions(revoke).action((name: string, role: string, _options: unknown, command: Command) =>
    change(io, command, `role ${role} revoked from ${name}`, (client) => client.auth.user.revokeRole(name, role)),
  );
}

function registerQueries(user: Command, io: CliIo): void {
  registerList(user, io, "users", (client) => client.auth.user.list());
  const get = user.command("get").description("show a user's roles").argument("<name>");
  addClientOptions(get).action(async (name: string, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const found = await withClient(flags, (client) => client.auth.user.get(name));
    print(io, flags, `user ${found.name}\nroles: ${found.roles.join(", ") || "(none)"}`, found);
  });
}
