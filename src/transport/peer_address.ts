import { assert } from "../util/assert.js";

export interface PeerAddress {
  readonly host: string;
  /** 0–65535; 0 only for `listen`, meaning "any free port" (see TcpTransport.listenAddress()). */
  readonly port: number;
}

export function checkAddress(address: PeerAddress, what: string): void {
  assert(address.host.length > 0, `${what}: empty host`);
  assert(Number.isInteger(address.port) && address.port >= 0 && address.port <= 65535, `${what}: port ${address.port}`);
}

/** "host:port", an IPv6 host in brackets: the form a hello carries. */
export function formatPeerAddress({ host, port }: PeerAddress): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** "host:port" (a bracketed IPv6 host allowed), as a hello carries it; undefined if malformed. */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) return undefined;
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}
