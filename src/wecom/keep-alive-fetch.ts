import http from 'node:http';
import https from 'node:https';
import type { FetchFn } from './http.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/**
 * The part of `fetch` that `requestJson` (src/wecom/http.ts) uses — method, string body, headers,
 * an abort signal; the answer's status and text — over `node:http(s)` with kept-alive sockets.
 * The worker's WeCom client uses it (jobs/worker.ts): Node's fetch (WHATWG streams, a Request
 * and Response per call) was about a fifth of the welcome worker's CPU per welcome
 * (docs/benchmarks.md, bench:welcome). Any other body (a multipart upload) goes to `fetch`.
 * An abort rejects with an `AbortError`, a socket error with the socket's error, as `fetch` does
 * in the ways requestJson tells them apart.
 */
export const keepAliveFetch = ((input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  if ((init.body !== undefined && init.body !== null && typeof init.body !== 'string') || input instanceof Request)
    return globalThis.fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const request = url.protocol === 'https:' ? https.request : http.request;
  const body = init.body ?? undefined;
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text: () => Promise.resolve(text) } as Response);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}) as FetchFn;
