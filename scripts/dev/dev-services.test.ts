import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/ports.js';
import { assertPortsFree } from './dev-services.js';

let holder: Server | undefined;
afterEach(() => new Promise<void>((done) => (holder ? holder.close(() => done()) : done())));

describe('assertPortsFree (npm run dev with a taken port)', () => {
  it('names the taken port, what wanted it and the variable that moves it, for every taken port at once', async () => {
    const port = await freePort();
    holder = createServer();
    await new Promise<void>((done) => holder!.listen(port, done));
    const free = await freePort();
    const check = assertPortsFree([
      { port, variable: 'PORT', what: 'the web process' },
      { port: free, variable: 'SANDBOX_PORT', what: 'the WeCom sandbox', host: '127.0.0.1' },
      { port: 0, variable: 'DEV_MONGO_PORT', what: 'the dev MongoDB server' },
    ]);
    await expect(check).rejects.toThrow(
      `port ${port} (the web process) is taken by another program: stop it, or set PORT to a free port`,
    );
    await expect(
      assertPortsFree([{ port: free, variable: 'SANDBOX_PORT', what: 'the WeCom sandbox', host: '127.0.0.1' }]),
    ).resolves.toBeUndefined();
  });
});
