/** Client endpoints: "host:port", "[v6]:port", "http://host:port" or "https://host:port". */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** "host:port" as the user wrote it (without "http://"; "https://" stays), for messages. */
  readonly label: string;
  /** Written as https://: reached over TLS even by a client given no TLS options. */
  readonly https?: true;
}

const pattern = /^(?:(https?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})\/?$/;

/** Parses one endpoint; throws a RangeError that names the bad input. */
export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  const match = pattern.exec(trimmed);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`bad endpoint "${text}": expected host:port, e.g. 127.0.0.1:8001`);
  }
  const host = match[2] ?? "";
  const https = match[1] === "https";
  return {
    host: host.startsWith("[") ? host.slice(1, -1) : host,
    port,
    label: `${https ? "https://" : ""}${host}:${port}`,
    ...(https ? { https } : {}),
  };
}

/** Parses a list or a comma-separated string of endpoints; at least one. */
export function parseEndpoints(input: string | readonly string[]): Endpoint[] {
  const items = typeof input === "string" ? input.split(",") : input;
  const endpoints = items.filter((item) => item.trim() !== "").map(parseEndpoint);
  if (endpoints.length === 0) throw new RangeError("no endpoints given: expected host:port[,host:port...]");
  return endpoints;
}
