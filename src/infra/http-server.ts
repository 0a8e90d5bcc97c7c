import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Stops accepting connections and lets in-flight requests finish; idle keep-alives close now. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}

/** How long a refused connection keeps reading what the client still sends before it is closed. */
const LINGER_MS = 2000;

const CLIENT_ERRORS: Record<string, { status: number; text: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    text: 'Request Header Fields Too Large',
    code: 'headers_too_large',
    message: 'the request line and headers exceed 16 KB; send long parameters in a request body',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    text: 'Request Timeout',
    code: 'request_timeout',
    message: 'the request was not received in time',
  },
};
const BAD_REQUEST = { status: 400, text: 'Bad Request', code: 'bad_request', message: 'malformed HTTP request' };

/**
 * The server's `clientError` handler: a request Node cannot parse (a 100 KB URL, a malformed
 * header) gets a complete JSON 4xx (`{ error: { code, message } }`, 431 for oversized headers),
 * then a lingering close: our side is shut for writing while what the client is still sending is
 * read and thrown away for up to LINGER_MS. Node 24's default handler destroys the socket right
 * after its answer; with the client's request still arriving the kernel then sends a reset, and
 * the client sees ECONNRESET instead of the answer (Node 20 happened to close more gently).
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const httpMessage = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const known = (err.code && CLIENT_ERRORS[err.code]) || BAD_REQUEST;
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${known.status} ${known.text}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
