import { assert } from "../util/assert.js";

/**
 * The data of snapshots a leader sent, kept beside a core that was handed their metadata alone: a
 * core keeps the snapshot it installs for as long as it is its newest (to send it on), and the
 * node has it on disk by then, so the data goes to the one Ready that installs it and no further.
 */
export class SnapshotsAside<S extends object> {
  /** Each snapshot the core was handed since the last Ready (the core's own object), with its data. */
  readonly #data = new Map<S, Uint8Array>();

  /** The core was handed `snapshot` without `data`. */
  put(snapshot: S, data: Uint8Array): void {
    this.#data.set(snapshot, data);
  }

  /** The data of the snapshot a Ready installs, if it installs one; the others were refused. */
  take(installed: S | undefined): Uint8Array | undefined {
    const data = installed === undefined ? undefined : this.#data.get(installed);
    this.#data.clear();
    assert(installed === undefined || data !== undefined, "a core installed a snapshot it was never handed");
    return data;
  }
}
