import { connect, type AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebServer } from '../app.js';
import { closeServer } from './http-server.js';

let server: ReturnType<typeof createWebServer>;
let port: number;

beforeAll(async () => {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  server = createWebServer(app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await closeServer(server);
});

/** Sends `request` raw and resolves with everything the server answered, or the socket error's code. */
function exchange(request: string): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: Error & { code?: string }) =>
      resolve({ answer: Buffer.concat(chunks).toString('utf8'), error: err.code ?? err.message }),
    );
    socket.on('end', () => {
      resolve({ answer: Buffer.concat(chunks).toString('utf8') });
      socket.end();
    });
    socket.write(request);
  });
}

describe('createWebServer with requests Node cannot parse', () => {
  // Regression: on Node 24 the default handler reset the connection while the client was still
  // sending, so the client saw ECONNRESET instead of an answer (src/infra/http-server.ts).
  it('answers a 100 KB request line with a complete JSON 431 instead of a reset', async () => {
    const { answer, error } = await exchange(
      `GET /api/v1/customers?corpId=${'x'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'headers_too_large', message: expect.stringMatching(/16 KB/) },
    });
  });

  it('answers a malformed request with a JSON 400', async () => {
    const { answer, error } = await exchange('GET / HTTP/1.1\r\nHost x\r\n\r\n');
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"bad_request"');
  });

  it('still serves well-formed requests', async () => {
    const { answer } = await exchange('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});
