/**
 * The file format of etcd's datadriven tests:
 *
 *     # a comment
 *     command arg key=value
 *     optional input lines
 *     ----
 *     expected output lines
 *
 * A blank line ends the expected output, so outputs never contain blank lines.
 */

export interface Case {
  /** The command's line number (1-based), for messages. */
  readonly line: number;
  readonly command: string;
  /** Arguments without `=`, in order. */
  readonly args: readonly string[];
  /** `key=value` arguments. */
  readonly options: ReadonlyMap<string, string>;
  /** Lines between the command and the `----` separator. */
  readonly input: readonly string[];
  readonly expected: readonly string[];
  /** The expected output's lines in the file, as [start, end) (0-based), for rewriting it in place. */
  readonly outputStart: number;
  readonly outputEnd: number;
}

const SEPARATOR = "----";

export function parseScript(text: string): Case[] {
  const lines = text.split("\n");
  const cases: Case[] = [];
  let k = 0;
  while (k < lines.length) {
    const head = lines[k]!;
    if (head.trim() === "" || head.startsWith("#")) {
      k++;
      continue;
    }
    const line = k + 1;
    const input: string[] = [];
    for (k++; lines[k] !== SEPARATOR; k++) {
      const next = lines[k];
      if (next === undefined || next.trim() === "") throw new Error(`line ${line}: "${head}" has no ${SEPARATOR} line`);
      input.push(next);
    }
    const outputStart = ++k;
    while (k < lines.length && lines[k]!.trim() !== "") k++;
    const {
      args: [command, ...args],
      options,
    } = parseWords(head);
    cases.push({
      line,
      command: command!,
      args,
      options,
      input,
      expected: lines.slice(outputStart, k),
      outputStart,
      outputEnd: k,
    });
  }
  return cases;
}

/** Splits a line into its words without `=` (in order) and its `key=value` words. */
export function parseWords(text: string): { args: string[]; options: Map<string, string> } {
  const args: string[] = [];
  const options = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq < 0) args.push(word);
    else options.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return { args, options };
}

export function parseCount(text: string): number {
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : fail(`"${text}" is not a count`);
}

export function parseBoolean(text: string): boolean {
  return text === "true" ? true : text === "false" ? false : fail(`"${text}" is not true or false`);
}

/** Throws: a script mistake, reported with the case's line by the runner. */
export function fail(message: string): never {
  throw new Error(message);
}

/** The script with each case's expected output replaced by `outputs[i]`; everything else is kept as written. */
export function rewriteScript(text: string, cases: readonly Case[], outputs: readonly (readonly string[])[]): string {
  const lines = text.split("\n");
  // From the last case back, so earlier line numbers stay valid while splicing.
  for (let i = cases.length - 1; i >= 0; i--) {
    const c = cases[i]!;
    lines.splice(c.outputStart, c.outputEnd - c.outputStart, ...outputs[i]!);
  }
  return lines.join("\n");
}
