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

/**
 * The first file part of a multipart body: its bytes and declared content type (the sandbox checks
 * WeCom's size, format and resolution rules on them). Undefined when the body is not multipart.
 */
export function multipartFile(raw: Buffer): { data: Buffer; contentType?: string } | undefined {
  const firstLineEnd = raw.indexOf('\r\n');
  if (firstLineEnd <= 2 || raw[0] !== 0x2d || raw[1] !== 0x2d) return undefined;
  const boundary = raw.subarray(0, firstLineEnd);
  const headEnd = raw.indexOf('\r\n\r\n', firstLineEnd);
  if (headEnd < 0) return undefined;
  const head = raw.subarray(firstLineEnd, headEnd).toString('latin1');
  const start = headEnd + 4;
  const end = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), start);
  return {
    data: raw.subarray(start, end < 0 ? raw.length : end),
    contentType: /content-type:\s*([^\r\n;]+)/i.exec(head)?.[1]?.trim(),
  };
}
