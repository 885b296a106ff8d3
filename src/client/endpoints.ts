/** Client endpoints: "host:port", "[v6]:port" or "http://host:port". */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** "host:port" as the user wrote it (without a scheme), for messages. */
  readonly label: string;
}

const pattern = /^(?:http:\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})\/?$/;

/** Parses one endpoint; throws a RangeError that names the bad input. */
export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  const match = pattern.exec(trimmed);
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`bad endpoint "${text}": expected host:port, e.g. 127.0.0.1:8001`);
  }
  const host = match[1] ?? "";
  return { host: host.startsWith("[") ? host.slice(1, -1) : host, port, label: `${host}:${port}` };
}

/** Parses a list or a comma-separated string of endpoints; at least one. */
export function parseEndpoints(input: string | readonly string[]): Endpoint[] {
  const items = typeof input === "string" ? input.split(",") : input;
  const endpoints = items.filter((item) => item.trim() !== "").map(parseEndpoint);
  if (endpoints.length === 0) throw new RangeError("no endpoints given: expected host:port[,host:port...]");
  return endpoints;
}
