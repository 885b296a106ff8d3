/** etcdserverpb's Lease service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { ResponseHeader } from "./kv.js";

export interface LeaseGrantRequest {
  TTL: number;
  ID: number;
}
export interface LeaseGrantResponse {
  header?: ResponseHeader;
  ID: number;
  TTL: number;
  error: string;
}
export interface LeaseRevokeRequest {
  ID: number;
}
export interface LeaseRevokeResponse {
  header?: ResponseHeader;
}
export interface LeaseKeepAliveRequest {
  ID: number;
}
export interface LeaseKeepAliveResponse {
  header?: ResponseHeader;
  ID: number;
  TTL: number;
}
export interface LeaseTimeToLiveRequest {
  ID: number;
  keys: boolean;
}
export interface LeaseTimeToLiveResponse {
  header?: ResponseHeader;
  ID: number;
  TTL: number;
  grantedTTL: number;
  keys: Uint8Array[];
}
export type LeaseLeasesRequest = Record<string, never>;
export interface LeaseStatus {
  ID: number;
}
export interface LeaseLeasesResponse {
  header?: ResponseHeader;
  leases: LeaseStatus[];
}

export const leaseDescriptors: Readonly<Record<string, string>> = {
  LeaseGrantRequest: "1 TTL int64; 2 ID int64",
  LeaseGrantResponse: "1 header ResponseHeader; 2 ID int64; 3 TTL int64; 4 error string",
  LeaseRevokeRequest: "1 ID int64",
  LeaseRevokeResponse: "1 header ResponseHeader",
  LeaseKeepAliveRequest: "1 ID int64",
  LeaseKeepAliveResponse: "1 header ResponseHeader; 2 ID int64; 3 TTL int64",
  LeaseTimeToLiveRequest: "1 ID int64; 2 keys bool",
  LeaseTimeToLiveResponse: "1 header ResponseHeader; 2 ID int64; 3 TTL int64; 4 grantedTTL int64; 5 keys []bytes",
  LeaseLeasesRequest: "",
  LeaseStatus: "1 ID int64",
  LeaseLeasesResponse: "1 header ResponseHeader; 2 leases []LeaseStatus",
};
