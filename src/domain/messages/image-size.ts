/**
 * Width and height of a PNG or JPEG from its header bytes, without an image library: WeCom
 * refuses Moments images whose long side passes 10,800 px or short side 1,080 px (41081,
 * docs/wecom.md §12.3), so the API says so at once instead of the worker learning it later.
 * `undefined` when the bytes are neither (or the header is cut short).
 */
export function imageSize(data: Uint8Array): { width: number; height: number } | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // PNG: signature, then the IHDR chunk (width, height as big-endian 32-bit at 16 and 20).
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR')
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  // JPEG: walk the segments to the first start-of-frame (SOF0–SOF15 except DHT 0xc4, JPG 0xc8, DAC 0xcc).
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1] as number;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + length;
  }
  return undefined;
}

/** WeCom's Moments image bounds (docs/wecom.md §12.3): long side ≤ 10,800 px, short side ≤ 1,080 px. */
export const MOMENT_IMAGE_BOUNDS = Object.freeze({ longSide: 10_800, shortSide: 1_080 });

/** Why an image cannot be a Moments attachment, in words; undefined when it can (or its size is unknown). */
export function momentImageProblem(size: { width: number; height: number } | undefined): string | undefined {
  if (!size) return undefined;
  const long = Math.max(size.width, size.height);
  const short = Math.min(size.width, size.height);
  if (long <= MOMENT_IMAGE_BOUNDS.longSide && short <= MOMENT_IMAGE_BOUNDS.shortSide) return undefined;
  return (
    `the image is ${size.width}×${size.height} px; WeCom takes Moments images with the short side at most ` +
    `${MOMENT_IMAGE_BOUNDS.shortSide} px and the long side at most ${MOMENT_IMAGE_BOUNDS.longSide} px (scale it down and upload it again)`
  );
}
