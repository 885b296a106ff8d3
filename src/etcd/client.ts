/**
 * Package entry `raftkv/etcd`: what a program needs to speak etcd's v3 gRPC API to raftkv (or to
 * etcd) without a gRPC library: the small client on node:http2 and the codec of every etcd message,
 * by its name in etcd's .proto files. The fault test's gRPC mode is its first user.
 */
export { GrpcClient, type CallOptions, type GrpcClientOptions } from "../grpc/client.js";
export type { MessageCodec } from "../grpc/framing.js";
export { GrpcError, Status } from "../grpc/status.js";
export { codecOf } from "./codecs.js";
export type { AuthenticateRequest, AuthenticateResponse } from "./messages/auth.js";
export type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  TxnRequest,
  TxnResponse,
} from "./messages/kv.js";
export { CompareCompareResult, CompareCompareTarget } from "./messages/kv.js";
