/** A growable byte array (capacity doubles), so that appending a record does not copy the file. */
export class Bytes {
  #buffer = new Uint8Array(256);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#size);
  }

  copy(): Uint8Array {
    return this.#buffer.slice(0, this.#size);
  }

  write(position: number, data: Uint8Array): void {
    // As pwrite(2): writing nothing does not extend the file.
    if (data.length === 0) return;
    const end = position + data.length;
    this.#reserve(end);
    // Writing past the end leaves a hole that reads as zeros; the buffer beyond size is kept zeroed.
    this.#buffer.set(data, position);
    this.#size = Math.max(this.#size, end);
  }

  truncate(length: number): void {
    if (length < this.#size) this.#buffer.fill(0, length, this.#size);
    else this.#reserve(length);
    this.#size = length;
  }

  flip(offset: number, bit: number): void {
    this.#buffer[offset]! ^= 1 << bit;
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(bytes, 2 * this.#buffer.length));
    grown.set(this.#buffer.subarray(0, this.#size));
    this.#buffer = grown;
  }
}
