import type { Command } from "commander";
import type { Member, RaftkvClient } from "../../client/index.js";
import { addClientOptions, clientFlags, envOption, print, withClient, type CliIo } from "../context.js";
import { membersTable } from "../format.js";

/** `raftkv member add|promote|remove`: one membership change each; prints the new member list. */
export function registerMember(program: Command, io: CliIo): void {
  const member = program.command("member").description("change the cluster's membership");
  const run = async (command: Command, change: (client: RaftkvClient) => Promise<Member[]>): Promise<void> => {
    const flags = clientFlags(command);
    const members = await withClient(flags, change);
    print(io, flags, membersTable(members), { members });
  };
  const add = member
    .command("add")
    .description("add a member (a non-voting learner with --learner)")
    .argument("<id>", "the new member's name, e.g. n4")
    .argument("<peer-addr>", "host:port of its peer listener")
    .addOption(envOption("--learner", "add it as a learner (promote it once it has caught up)", "RAFTKV_LEARNER"));
  addClientOptions(add).action((id: string, peerAddr: string, options: { learner?: boolean }, command: Command) =>
    run(command, (client) => client.addMember(id, peerAddr, { learner: options.learner === true })),
  );
  const promote = member.command("promote").description("make a learner a voter").argument("<id>");
  addClientOptions(promote).action((id: string, _options: unknown, command: Command) =>
    run(command, (client) => client.promoteMember(id)),
  );
  const remove = member.command("remove").description("remove a member").argument("<id>");
  addClientOptions(remove).action((id: string, _options: unknown, command: Command) =>
    run(command, (client) => client.removeMember(id)),
  );
}
