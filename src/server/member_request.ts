/**
 * Requests from one member to another's client port (forwarding to the leader, gathering the
 * dashboard): https when this member's client port is, verifying the other against this member's
 * client CA (which must therefore also sign the members' client-port certificates) and its host
 * name against the address the other member advertises.
 */
import {
  Agent,
  request as httpRequest,
  type AgentOptions,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { TlsCredentials } from "../tls/index.js";

/** A pool of keep-alive connections to the other members, of the kind memberRequest needs. */
export function memberAgent(tls: TlsCredentials | undefined, options: AgentOptions): Agent {
  return tls === undefined ? new Agent(options) : new HttpsAgent(options);
}

export function memberRequest(
  tls: TlsCredentials | undefined,
  options: RequestOptions,
  onResponse?: (res: IncomingMessage) => void,
): ClientRequest {
  if (tls === undefined) return httpRequest(options, onResponse);
  // Read at each request, so reloaded material applies to the next one (the agent pools per CA).
  const ca = tls.material.ca;
  return httpsRequest({ ...options, ...(ca === undefined ? {} : { ca }) }, onResponse);
}
