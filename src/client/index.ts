/** `raftkv/client`: the typed client of the HTTP API (docs/api.md). */
export { RaftkvClient, clientDefaults, type RaftkvClientOptions } from "./client.js";
export { RaftkvError, type ClientErrorCode } from "./errors.js";
export { parseEndpoint, parseEndpoints, type Endpoint } from "./endpoints.js";
export {
  fetchTransport,
  nodeHttpTransport,
  type HttpOutcome,
  type HttpRequest,
  type HttpTransport,
  type NodeHttpTransportOptions,
} from "./transport.js";
export { consistencies } from "./types.js";
export type * from "./types.js";
