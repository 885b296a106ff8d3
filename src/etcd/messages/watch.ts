/** etcdserverpb's Watch service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { ResponseHeader } from "./kv.js";
import type { Event } from "./records.js";

export const WatchCreateRequestFilterType = { Noput: 0, Nodelete: 1 } as const;

export interface WatchRequest {
  createRequest?: WatchCreateRequest;
  cancelRequest?: WatchCancelRequest;
  progressRequest?: WatchProgressRequest;
}
export interface WatchCreateRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: number;
  progressNotify: boolean;
  filters: number[];
  prevKv: boolean;
  watchId: number;
  fragment: boolean;
}
export interface WatchCancelRequest {
  watchId: number;
}
export type WatchProgressRequest = Record<string, never>;
export interface WatchResponse {
  header?: ResponseHeader;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: Event[];
}

export const watchDescriptors: Readonly<Record<string, string>> = {
  WatchRequest:
    "1 createRequest ?WatchCreateRequest; 2 cancelRequest ?WatchCancelRequest; 3 progressRequest ?WatchProgressRequest",
  WatchCreateRequest:
    "1 key bytes; 2 rangeEnd bytes; 3 startRevision int64; 4 progressNotify bool; 5 filters []enum; 6 prevKv bool; 7 watchId int64; 8 fragment bool",
  WatchCancelRequest: "1 watchId int64",
  WatchProgressRequest: "",
  WatchResponse:
    "1 header ResponseHeader; 2 watchId int64; 3 created bool; 4 canceled bool; 5 compactRevision int64; 6 cancelReason string; 7 fragment bool; 11 events []Event",
};
