// A TCP relay that counts the bytes it carries each way: put in front of a member's peer port, it
// shows what the other members sent that member (every peer connection carries only its dialler's
// messages, so inbound bytes are the others' messages to it; docs/engines-compared.md).
import { connect, createServer } from "node:net";

export async function byteProxy(listenPort, targetPort) {
  const counts = { toMember: 0, fromMember: 0 };
  const sockets = new Set();
  const server = createServer((inbound) => {
    const outbound = connect({ host: "127.0.0.1", port: targetPort });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.on("data", (chunk) => (counts.toMember += chunk.length));
    outbound.on("data", (chunk) => (counts.fromMember += chunk.length));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  return {
    counts,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
