import type { ConfChangeError } from "../raft/index.js";
import type { StorageError } from "../storage/index.js";

/**
 * Why a proposal or read did not succeed, and what the caller may conclude:
 * - notLeader / noLeader / stopped / tooBusy: definitely not applied; safe to retry elsewhere.
 * - notApplied: the entry lost its place in the log to another leader's entry: definitely not applied.
 * - timeout: unknown; the command may still be applied later.
 * - storage: this node can no longer write its log; it is stopping.
 */
export type NodeError =
  | { readonly type: "notLeader"; readonly leader: string | undefined }
  | { readonly type: "noLeader" }
  | { readonly type: "tooBusy" }
  | { readonly type: "notApplied" }
  | { readonly type: "timeout" }
  | { readonly type: "stopped" }
  | { readonly type: "storage"; readonly error: StorageError };

export class NodeRequestError extends Error {
  override name = "NodeRequestError";
  readonly detail: NodeError;

  constructor(detail: NodeError) {
    super(describe(detail));
    this.detail = detail;
  }

  /** Whether the command is known not to have been applied (a retry cannot apply it twice). */
  get definitelyNotApplied(): boolean {
    return this.detail.type !== "timeout" && this.detail.type !== "storage";
  }
}

function describe(detail: NodeError): string {
  switch (detail.type) {
    case "notLeader":
      return detail.leader === undefined ? "not the leader" : `not the leader; the leader is ${detail.leader}`;
    case "noLeader":
      return "no leader is known";
    case "tooBusy":
      return "too many uncommitted proposals";
    case "notApplied":
      return "another leader's entry took the proposal's place";
    case "timeout":
      return "timed out; the outcome is unknown";
    case "stopped":
      return "the node is stopping";
    case "storage":
      return detail.error.message;
  }
}

/** Raft refused a membership change; `reason` says why (nothing was proposed). */
export class ConfChangeRefused extends Error {
  override name = "ConfChangeRefused";
  /** "notSupported": the engine has a fixed ensemble (Multi-Paxos). */
  readonly reason: ConfChangeError | "notSupported";

  constructor(reason: ConfChangeError | "notSupported") {
    super(`membership change refused: ${reason}`);
    this.reason = reason;
  }
}
