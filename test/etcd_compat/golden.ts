/** The transcripts a real etcd gave, kept in the repository beside this file's source. */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

function goldenPath(name: string): string {
  // Compiled to dist/test/etcd_compat/; the golden files stay in test/etcd_compat/.
  return fileURLToPath(new URL(`../../../test/etcd_compat/${name}.golden.txt`, import.meta.url));
}

export async function readGolden(name: string): Promise<string[]> {
  return (await readFile(goldenPath(name), "utf8")).trimEnd().split("\n");
}

export async function writeGolden(name: string, transcript: readonly string[]): Promise<string> {
  const path = goldenPath(name);
  await writeFile(path, `${transcript.join("\n")}\n`);
  return path;
}

/** The lines where two transcripts differ, as a unified-style excerpt ("" when they agree). */
export function transcriptDiff(expected: readonly string[], actual: readonly string[]): string {
  const out: string[] = [];
  const length = Math.max(expected.length, actual.length);
  for (let i = 0; i < length; i++) {
    if (expected[i] === actual[i]) continue;
    out.push(`line ${i + 1}:`, `  etcd:   ${expected[i] ?? "(end)"}`, `  raftkv: ${actual[i] ?? "(end)"}`);
    if (out.length > 60) break;
  }
  return out.join("\n");
}
