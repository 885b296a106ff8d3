import type { LogIndex, NodeId, Term } from "../util/ids.js";

/*
 * Storage sits beside the raft core, not above it, so it defines its own shapes. They are
 * structurally the core's Entry and HardState: values pass between the two without conversion.
 */

type StoredEntryKind = "normal" | "config";

/** A log entry as the WAL keeps it. Within a log, indexes are consecutive and terms never decrease. */
export interface StoredEntry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly kind: StoredEntryKind;
  readonly data: Uint8Array;
}

/** Term, vote and commit; `term` never decreases and a node votes at most once per term. */
export interface StoredHardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: LogIndex;
}

/** Everything at or below `index` is covered by a snapshot whose last entry had `term`. */
export interface SnapshotMarker {
  readonly index: LogIndex;
  readonly term: Term;
}
