/**
 * etcd's gRPC errors (its api/v3rpc/rpctypes): clients match them by their exact text, so these
 * strings and codes must not drift from etcd's.
 */
import { GrpcError, Status, type StatusCode } from "../grpc/status.js";
import { NodeRequestError } from "../node/index.js";

const errors = {
  emptyKey: [Status.INVALID_ARGUMENT, "etcdserver: key is not provided"],
  keyNotFound: [Status.INVALID_ARGUMENT, "etcdserver: key not found"],
  valueProvided: [Status.INVALID_ARGUMENT, "etcdserver: value is provided"],
  leaseProvided: [Status.INVALID_ARGUMENT, "etcdserver: lease is provided"],
  tooManyOps: [Status.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"],
  duplicateKey: [Status.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"],
  compacted: [Status.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"],
  futureRevision: [Status.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"],
  leaseNotFound: [Status.NOT_FOUND, "etcdserver: requested lease not found"],
  leaseExists: [Status.FAILED_PRECONDITION, "etcdserver: lease already exists"],
  leaseTtlTooLarge: [Status.OUT_OF_RANGE, "etcdserver: too large lease TTL"],
  memberExists: [Status.FAILED_PRECONDITION, "etcdserver: member ID already exist"],
  peerUrlExists: [Status.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"],
  memberBadUrls: [Status.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"],
  memberNotFound: [Status.NOT_FOUND, "etcdserver: member not found"],
  memberNotLearner: [Status.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"],
  learnerNotReady: [
    Status.FAILED_PRECONDITION,
    "etcdserver: can only promote a learner member which is in sync with leader",
  ],
  requestTooLarge: [Status.INVALID_ARGUMENT, "etcdserver: request is too large"],
  tooManyRequests: [Status.RESOURCE_EXHAUSTED, "etcdserver: too many requests"],
  userEmpty: [Status.INVALID_ARGUMENT, "etcdserver: user name is empty"],
  authFailed: [Status.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password"],
  permissionDenied: [Status.PERMISSION_DENIED, "etcdserver: permission denied"],
  authNotEnabled: [Status.FAILED_PRECONDITION, "etcdserver: authentication is not enabled"],
  invalidAuthToken: [Status.UNAUTHENTICATED, "etcdserver: invalid auth token"],
  noLeader: [Status.UNAVAILABLE, "etcdserver: no leader"],
  notLeader: [Status.FAILED_PRECONDITION, "etcdserver: not leader"],
  leaderChanged: [Status.UNAVAILABLE, "etcdserver: leader changed"],
  stopped: [Status.UNAVAILABLE, "etcdserver: server stopped"],
  timeout: [Status.UNAVAILABLE, "etcdserver: request timed out"],
  badLeaderTransferee: [Status.FAILED_PRECONDITION, "etcdserver: bad leader transferee"],
} as const satisfies Record<string, readonly [StatusCode, string]>;

type EtcdErrorName = keyof typeof errors;

export function etcdError(name: EtcdErrorName): GrpcError {
  const [code, message] = errors[name];
  return new GrpcError(code, message);
}

/**
 * The member's refusals as etcd's errors (the HTTP API's are in the server's kv_routes.ts): clients
 * retry UNAVAILABLE, as they would against etcd. Anything else is rethrown.
 */
export function nodeErrorToGrpc(error: unknown): GrpcError {
  if (error instanceof GrpcError) return error;
  if (!(error instanceof NodeRequestError)) throw error;
  switch (error.detail.type) {
    case "notLeader":
    case "noLeader":
      return etcdError("noLeader");
    case "tooBusy":
      return etcdError("tooManyRequests");
    case "notApplied":
      return etcdError("leaderChanged");
    case "stopped":
      return etcdError("stopped");
    case "timeout":
      return etcdError("timeout");
    case "storage":
      return new GrpcError(Status.INTERNAL, `raftkv: ${error.message}`);
  }
}
