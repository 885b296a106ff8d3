/** How a member's disk behaves: fdatasync latency (now and then much slower), and what a power loss does. */
export interface DiskModel {
  readonly syncLatencyMinMs: number;
  readonly syncLatencyMaxMs: number;
  /** Probability that one fdatasync takes up to slowSyncMaxMs (a disk stalled in the kernel). */
  readonly slowSyncRate: number;
  readonly slowSyncMaxMs: number;
  /** Per file with unsynced writes at a power loss: probability that a prefix of them survives. */
  readonly tornWriteProbability: number;
  /** Probability that a power loss also flips a bit in an old WAL record: the member then refuses to start. */
  readonly corruptionRate: number;
}
