import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const EXT = `${ALNUM}_-`;

function pick(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** `ww` + 16 hex, like a real corp id. */
export const newCorpId = (): string => `ww${randomBytes(8).toString('hex')}`;
/** `wm` + 30 chars of [A-Za-z0-9_-] (docs/wecom.md §6.1: opaque, ~32 chars). */
export const newExternalUserId = (): string => `wm${pick(EXT, 30)}`;
/** Corp tag / group ids look like `et…`. */
export const newTagId = (): string => `et${pick(ALNUM, 20)}`;
export const newAccessToken = (): string => pick(`${ALNUM}-_`, 96);
export const newOpaque = (prefix: string, length = 24): string => `${prefix}${pick(ALNUM, length)}`;
export const newMsgId = (): string => `msg${pick(ALNUM, 22)}`;
/** A 64-bit-looking numeric MsgId (docs/wecom.md §2.7: keep as string). */
export const newNumericMsgId = (): string =>
  `7${BigInt(`0x${randomBytes(7).toString('hex')}`)
    .toString()
    .padStart(18, '0')
    .slice(0, 18)}`;
