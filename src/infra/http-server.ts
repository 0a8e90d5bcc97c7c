import type { Server } from 'node:http';

/** Stops accepting connections and lets in-flight requests finish; idle keep-alives close now. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}
