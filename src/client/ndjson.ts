/**
 * Newline-delimited JSON read as it arrives: chunks end anywhere, in the middle of a line or of a
 * multi-byte character, so bytes are held until their line's newline comes and only then decoded.
 */
const newline = 0x0a;
const decoder = new TextDecoder();

export class LineSplitter {
  #held: Uint8Array[] = [];

  /** The lines this chunk completes, without their newlines; blank lines are skipped. */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let at = chunk.indexOf(newline); at !== -1; at = chunk.indexOf(newline, start)) {
      this.#held.push(chunk.subarray(start, at));
      const line = decoder.decode(Buffer.concat(this.#held)).trim();
      this.#held = [];
      if (line !== "") lines.push(line);
      start = at + 1;
    }
    if (start < chunk.byteLength) this.#held.push(chunk.slice(start));
    return lines;
  }
}

/** Each complete line of a byte stream, as it arrives. */
export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const chunk of chunks) yield* splitter.push(chunk);
}
