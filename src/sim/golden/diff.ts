/**
 * A unified-style line diff: `- ` expected only, `+ ` actual only, `  ` both. Unchanged lines more
 * than `context` lines from a change become one `  …`, so a one-line change in a long trace stands out.
 */
export function lineDiff(expected: readonly string[], actual: readonly string[], context = 3): string[] {
  const width = actual.length + 1;
  // common[i * width + j]: the longest common subsequence of expected[i..] and actual[j..].
  const common = new Uint32Array((expected.length + 1) * width);
  const at = (i: number, j: number): number => common[i * width + j]!;
  for (let i = expected.length - 1; i >= 0; i--) {
    for (let j = actual.length - 1; j >= 0; j--) {
      common[i * width + j] = expected[i] === actual[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    if (i < expected.length && j < actual.length && expected[i] === actual[j]) {
      lines.push(`  ${expected[i++]}`);
      j++;
    } else if (i < expected.length && (j === actual.length || at(i + 1, j) >= at(i, j + 1))) {
      lines.push(`- ${expected[i++]}`);
    } else {
      lines.push(`+ ${actual[j++]}`);
    }
  }
  return collapse(lines, context);
}

function collapse(lines: readonly string[], context: number): string[] {
  const changed = lines.map((line) => !line.startsWith("  "));
  const near = (k: number): boolean => changed.slice(Math.max(0, k - context), k + context + 1).some(Boolean);
  const out: string[] = [];
  for (const [k, line] of lines.entries()) {
    if (near(k)) out.push(line);
    else if (out.at(-1) !== "  …") out.push("  …");
  }
  return out;
}
