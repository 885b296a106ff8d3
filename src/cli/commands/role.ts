import { InvalidArgumentError, type Command } from "commander";
import { permissionTypes, type GrantedPermission, type PermissionType } from "../../client/index.js";
import { addClientOptions, clientFlags, envOption, print, withClient, type CliIo } from "../context.js";
import { display, table } from "../format.js";
import { change, registerList } from "./auth_management.js";

/**
 * `raftkv role add|delete|grant|revoke|list|get`: roles and their permissions (docs/api.md,
 * "Authentication"). A permission covers every key with a prefix, or with `--exact` one key.
 */
export function registerRole(program: Command, io: CliIo): void {
  const role = program.command("role").description("manage the roles of authentication and their permissions");
  registerChanges(role, io);
  registerQueries(role, io);
}

function parsePermissionType(text: string): PermissionType {
  const type = permissionTypes.find((t) => t === text.trim());
  if (type === undefined) throw new InvalidArgumentError(`expected one of ${permissionTypes.join(", ")}.`);
  return type;
}

const keyOption = (): ReturnType<typeof envOption> =>
  // Not --key, which every client command takes for its TLS key file.
  envOption("--exact", "the last argument is one key, not a prefix", "RAFTKV_EXACT");

function registerChanges(role: Command, io: CliIo): void {
  const add = role.command("add").description("add a role").argument("<role>");
  addClientOptions(add).action((name: string, _options: unknown, command: Command) =>
    change(io, command, `role ${name} added`, (client) => client.auth.role.add(name)),
  );
  const remove = role.command("delete").description("delete a role").argument("<role>");
  addClientOptions(remove).action((name: string, _options: unknown, command: Command) =>
    change(io, command, `role ${name} deleted`, (client) => client.auth.role.delete(name)),
  );
  const grant = role
    .command("grant")
    .description("let a role read, write or both on every key with a prefix (with --exact: one key)")
    .argument("<role>")
    .argument("<type>", permissionTypes.join("|"), parsePermissionType)
    .argument("<prefix>", 'the keys\' prefix ("" for every key)')
    .addOption(keyOption());
  addClientOptions(grant).action(
    (name: string, type: PermissionType, prefix: string, options: { exact?: boolean }, command: Command) => {
      const scope = options.exact === true ? { key: prefix } : { prefix };
      return change(io, command, `role ${name} granted ${type} on ${describeScope(scope)}`, (client) =>
        client.auth.role.grant(name, { type, ...scope }),
      );
    },
  );
  const revoke = role
    .command("revoke")
    .description("take back a role's permission on a prefix (with --exact: one key)")
    .argument("<role>")
    .argument("<prefix>")
    .addOption(keyOption());
  addClientOptions(revoke).action((name: string, prefix: string, options: { exact?: boolean }, command: Command) => {
    const scope = options.exact === true ? { key: prefix } : { prefix };
    return change(io, command, `role ${name} no longer has ${describeScope(scope)}`, (client) =>
      client.auth.role.revoke(name, scope),
    );
  });
}

function describeScope(scope: { prefix: string | Uint8Array } | { key: string | Uint8Array }): string {
  const bytes = (b: string | Uint8Array): string => JSON.stringify(typeof b === "string" ? b : display(b));
  return "prefix" in scope ? `keys with prefix ${bytes(scope.prefix)}` : `key ${bytes(scope.key)}`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** As the server's JSON: text when it is UTF-8, else base64 with `"encoding": "base64"`. */
function permissionJson(permission: GrantedPermission): Record<string, string> {
  const [field, bytes] = "prefix" in permission ? ["prefix", permission.prefix] : ["key", permission.key];
  try {
    return { type: permission.type, [field]: strictUtf8.decode(bytes) };
  } catch {
    return { type: permission.type, [field]: Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}

function registerQueries(role: Command, io: CliIo): void {
  registerList(role, io, "roles", (client) => client.auth.role.list());
  const get = role.command("get").description("show a role's permissions").argument("<role>");
  addClientOptions(get).action(async (name: string, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const found = await withClient(flags, (client) => client.auth.role.get(name));
    const rows = found.permissions.map((p) => [p.type, describeScope(p)]);
    const human =
      rows.length === 0 ? `role ${found.name}: no permissions` : `role ${found.name}\n${table(["TYPE", "ON"], rows)}`;
    print(io, flags, human, { name: found.name, permissions: found.permissions.map(permissionJson) });
  });
}
