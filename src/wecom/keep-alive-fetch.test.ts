import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../testing/ports.js';
import { requestJson } from './http.js';
import { keepAliveFetch } from './keep-alive-fetch.js';

let server: Server;
let base = '';
const seen: Array<{ method?: string; url?: string; type?: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      if (req.url?.startsWith('/cgi-bin/hang')) return; // never answers
      if (req.url?.startsWith('/cgi-bin/broken')) return void res.writeHead(502).end('bad gateway');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok', echo: body ? (JSON.parse(body) as unknown) : null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('keepAliveFetch under requestJson', () => {
  it('sends the method, query and JSON body, and returns the parsed answer', async () => {
    const res = await requestJson<{ errcode: number; errmsg: string; echo: unknown }>(keepAliveFetch, base, {
      path: '/cgi-bin/externalcontact/send_welcome_msg',
      method: 'POST',
      query: { access_token: 'TOKEN' },
      json: { welcome_code: 'wc', text: { content: '恭喜提车！' } },
      timeoutMs: 2000,
      endpoint: 'externalcontact/send_welcome_msg',
    });
    expect(res.echo).toEqual({ welcome_code: 'wc', text: { content: '恭喜提车！' } });
    const last = seen.at(-1);
    expect(last?.method).toBe('POST');
    expect(last?.url).toBe('/cgi-bin/externalcontact/send_welcome_msg?access_token=TOKEN');
    expect(last?.type).toBe('application/json; charset=utf-8');
  });

  it('tells a timeout, a refused connection and an HTTP error apart as fetch does', async () => {
    const call = (apiBase: string, path: string, timeoutMs = 2000) =>
      requestJson(keepAliveFetch, apiBase, { path, method: 'GET', timeoutMs, endpoint: 'x' });
    await expect(call(base, '/cgi-bin/hang', 200)).rejects.toMatchObject({ reason: 'timeout' });
    await expect(call(base, '/cgi-bin/broken')).rejects.toMatchObject({ reason: 'http_status', status: 502 });
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(call(closed, '/cgi-bin/gettoken')).rejects.toMatchObject({ reason: 'network' });
  });
});
