import type { IncomingMessage } from 'node:http';

/** Reads a request body with a size cap (no body-parser dependency). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** File name of the first part of a multipart body, if any. */
export function multipartFilename(raw: Buffer): string | undefined {
  const head = raw.subarray(0, 2048).toString('latin1');
  return /filename="([^"]*)"/.exec(head)?.[1];
}
