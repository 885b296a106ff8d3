/** etcdserverpb's Cluster service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { ResponseHeader } from "./kv.js";

export interface Member {
  ID: number;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}
export interface MemberAddRequest {
  peerURLs: string[];
  isLearner: boolean;
}
export interface MemberAddResponse {
  header?: ResponseHeader;
  member?: Member;
  members: Member[];
}
export interface MemberRemoveRequest {
  ID: number;
}
export interface MemberRemoveResponse {
  header?: ResponseHeader;
  members: Member[];
}
export interface MemberUpdateRequest {
  ID: number;
  peerURLs: string[];
}
export interface MemberUpdateResponse {
  header?: ResponseHeader;
  members: Member[];
}
export interface MemberListRequest {
  linearizable: boolean;
}
export interface MemberListResponse {
  header?: ResponseHeader;
  members: Member[];
}
export interface MemberPromoteRequest {
  ID: number;
}
export interface MemberPromoteResponse {
  header?: ResponseHeader;
  members: Member[];
}

export const clusterDescriptors: Readonly<Record<string, string>> = {
  Member: "1 ID id64; 2 name string; 3 peerURLs []string; 4 clientURLs []string; 5 isLearner bool",
  MemberAddRequest: "1 peerURLs []string; 2 isLearner bool",
  MemberAddResponse: "1 header ResponseHeader; 2 member Member; 3 members []Member",
  MemberRemoveRequest: "1 ID uint64",
  MemberRemoveResponse: "1 header ResponseHeader; 2 members []Member",
  MemberUpdateRequest: "1 ID uint64; 2 peerURLs []string",
  MemberUpdateResponse: "1 header ResponseHeader; 2 members []Member",
  MemberListRequest: "1 linearizable bool",
  MemberListResponse: "1 header ResponseHeader; 2 members []Member",
  MemberPromoteRequest: "1 ID uint64",
  MemberPromoteResponse: "1 header ResponseHeader; 2 members []Member",
};
