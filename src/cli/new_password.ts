/**
 * `user add` and `user passwd` take the new password as `--password`, the flag every client command
 * takes for the caller's password (credentials.ts). Which is whose is decided on the raw arguments,
 * before commander sees them: commander keeps only the last value of a repeated flag.
 */
import { CliFailure, exitCodes } from "./context.js";

/** The subcommands whose own argument is a password. */
const newPasswordCommands = new Set(["add", "passwd"]);

/**
 * For `user add` and `user passwd`: the `--password` that directly follows `--user NAME` is the
 * caller's; any other is the new password, rewritten to `--new-password`. Other commands pass
 * through unchanged. A new password given twice is a usage error.
 */
export function separateNewPassword(argv: readonly string[]): string[] {
  if (argv[0] !== "user" || !newPasswordCommands.has(argv[1] ?? "")) return [...argv];
  const out = argv.slice(0, 2);
  let afterUser = false;
  let newPasswords = 0;
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const isPassword = word === "--password" || word.startsWith("--password=");
    if (isPassword && !afterUser) {
      newPasswords++;
      out.push(word.replace(/^--password/, "--new-password"));
    } else {
      out.push(word);
    }
    if (word === "--new-password" || word.startsWith("--new-password=")) newPasswords++;
    // The flag's value (when separate) is not a flag of its own.
    const takesValue = word === "--user" || word === "--password" || word === "--new-password";
    if (takesValue && i + 1 < argv.length) out.push(argv[++i] as string);
    afterUser = word === "--user" || word.startsWith("--user=");
  }
  if (newPasswords > 1) {
    throw new CliFailure(
      exitCodes.usage,
      `user ${argv[1]}: the new password is given twice (the --password right after --user NAME is the caller's; any other, or --new-password, is the new one)`,
    );
  }
  return out;
}
