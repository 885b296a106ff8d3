/** etcdserverpb's Maintenance service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { ResponseHeader } from "./kv.js";

export const AlarmRequestAlarmAction = { Get: 0, Activate: 1, Deactivate: 2 } as const;
export const AlarmType = { None: 0, Nospace: 1, Corrupt: 2 } as const;
export const DowngradeRequestDowngradeAction = { Validate: 0, Enable: 1, Cancel: 2 } as const;

export type HashRequest = Record<string, never>;
export interface HashKVRequest {
  revision: number;
}
export interface HashKVResponse {
  header?: ResponseHeader;
  hash: number;
  compactRevision: number;
}
export interface HashResponse {
  header?: ResponseHeader;
  hash: number;
}
export type SnapshotRequest = Record<string, never>;
export interface SnapshotResponse {
  header?: ResponseHeader;
  remainingBytes: number;
  blob: Uint8Array;
}
export type DefragmentRequest = Record<string, never>;
export interface DefragmentResponse {
  header?: ResponseHeader;
}
export interface MoveLeaderRequest {
  targetID: number;
}
export interface MoveLeaderResponse {
  header?: ResponseHeader;
}
export interface AlarmRequest {
  action: number;
  memberID: number;
  alarm: number;
}
export interface AlarmMember {
  memberID: number;
  alarm: number;
}
export interface AlarmResponse {
  header?: ResponseHeader;
  alarms: AlarmMember[];
}
export interface DowngradeRequest {
  action: number;
  version: string;
}
export interface DowngradeResponse {
  header?: ResponseHeader;
  version: string;
}
export type StatusRequest = Record<string, never>;
export interface StatusResponse {
  header?: ResponseHeader;
  version: string;
  dbSize: number;
  leader: number;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

export const maintenanceDescriptors: Readonly<Record<string, string>> = {
  HashRequest: "",
  HashKVRequest: "1 revision int64",
  HashKVResponse: "1 header ResponseHeader; 2 hash uint32; 3 compactRevision int64",
  HashResponse: "1 header ResponseHeader; 2 hash uint32",
  SnapshotRequest: "",
  SnapshotResponse: "1 header ResponseHeader; 2 remainingBytes uint64; 3 blob bytes",
  DefragmentRequest: "",
  DefragmentResponse: "1 header ResponseHeader",
  MoveLeaderRequest: "1 targetID uint64",
  MoveLeaderResponse: "1 header ResponseHeader",
  AlarmRequest: "1 action enum; 2 memberID uint64; 3 alarm enum",
  AlarmMember: "1 memberID uint64; 2 alarm enum",
  AlarmResponse: "1 header ResponseHeader; 2 alarms []AlarmMember",
  DowngradeRequest: "1 action enum; 2 version string",
  DowngradeResponse: "1 header ResponseHeader; 2 version string",
  StatusRequest: "",
  StatusResponse:
    "1 header ResponseHeader; 2 version string; 3 dbSize int64; 4 leader id64; 5 raftIndex uint64; 6 raftTerm uint64; 7 raftAppliedIndex uint64; 8 errors []string; 9 dbSizeInUse int64; 10 isLearner bool",
};
