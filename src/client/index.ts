/** `raftkv/client`: the typed client of the HTTP API (docs/api.md, docs/coordination.md). */
export { RaftkvClient, clientDefaults, type RaftkvClientOptions } from "./client.js";
export type { AuthRoles, AuthUsers, RaftkvAuth } from "./auth.js";
export {
  permissionTypes,
  type AuthRevision,
  type AuthRole,
  type AuthStatus,
  type AuthToken,
  type AuthUser,
  type GrantedPermission,
  type Permission,
  type PermissionScope,
  type PermissionType,
} from "./auth_codec.js";
export type { AuthOptions } from "./auth_token.js";
export type { Election } from "./election.js";
export {
  AuthenticationError,
  PermissionDeniedError,
  RaftkvError,
  WatchCompactedError,
  type ClientErrorCode,
} from "./errors.js";
export { parseEndpoint, parseEndpoints, type Endpoint } from "./endpoints.js";
export type { KeepAlive, KeepAliveEnd, KeepAliveOptions } from "./keep_alive.js";
export type { Lock } from "./lock.js";
export type { QueueOptions } from "./queue.js";
export {
  fetchTransport,
  nodeHttpTransport,
  type HttpOutcome,
  type HttpRequest,
  type HttpTransport,
  type NodeHttpTransportOptions,
} from "./transport.js";
export type { HttpStreamOutcome, HttpStreamRequest } from "./transport_stream.js";
export type { ClientTls } from "./transport_tls.js";
export { consistencies } from "./types.js";
export type * from "./types.js";
