/** What the coordination workloads did in a run, for the sweep's summary (they show the checks had work). */
export interface CoordinationCounts {
  /** Messages the watch clients received (events, progress, cancellations). */
  watchMessages: number;
  /** Reconnections of a watch after a cancellation or a lost connection. */
  resumes: number;
  /** Compaction revisions applied (each counted once, however many members apply it). */
  compactions: number;
  slowCancels: number;
  leasesGranted: number;
  /** Leases revoked by their leader's expiry, not by their client. */
  leasesExpired: number;
  /** Leases revoked at their client's request. */
  leasesRevoked: number;
  keepalivesAcked: number;
}

export function noCoordination(): CoordinationCounts {
  return {
    watchMessages: 0,
    resumes: 0,
    compactions: 0,
    slowCancels: 0,
    leasesGranted: 0,
    leasesExpired: 0,
    leasesRevoked: 0,
    keepalivesAcked: 0,
  };
}
