import { WecomApiError } from '../../wecom/errors.js';
import { MomentMediaError } from './moment-media.js';

/**
 * WeCom's refusals of a Moments task or its attachments in words for the console (docs/wecom.md
 * §12.1, §12.3, §4); other codes show WeCom's own errmsg.
 */
export const MOMENT_ERROR_WORDS: Readonly<Record<number, string>> = {
  40004: '图片格式不被接受（朋友圈图片仅支持 JPG、PNG）',
  40006: '附件大小不合法（须大于 5 字节）',
  40007: '附件的 media_id 无效',
  40145: '附件的 media_id 已过期（有效期 3 天）',
  41064: '附件数量超过限制（最多 9 张图片，或 1 个视频，或 1 个链接）',
  41065: '附件类型只能三选一（图片、视频或链接）',
  41072: '上传附件的 media_type 与 attachment_type 不匹配',
  41078: '进行中的朋友圈创建任务过多，请稍后再试',
  41080: '附件超过 10 MB',
  41081: '图片分辨率超过限制（长边不超过 10800 像素，短边不超过 1080 像素）',
  41082: '视频超过 30 秒',
  41089: '正文与附件不能同时为空',
  41090: '视频格式不合法（仅支持 MP4）',
  41210: '本月通过 API 创建的朋友圈已达 10 万条上限',
  41211: '企业未开通客户朋友圈',
  45009: '调用过于频繁（朋友圈任务每分钟最多创建 10 个）',
  60011: '应用没有权限（成员不在可见范围）',
};

/** A failure of a Moments task's creation, as stored on the task (`error`). */
export function momentErrorWords(err: unknown, step: 'upload_attachment' | 'add_moment_task'): string {
  if (err instanceof MomentMediaError) return err.message;
  if (err instanceof WecomApiError)
    return `${step} 企业微信错误码 ${err.errcode}：${MOMENT_ERROR_WORDS[err.errcode] ?? err.errmsg}`;
  return step === 'add_moment_task'
    ? 'interrupted during add_moment_task; not re-created to avoid a duplicate post'
    : `upload_attachment failed: ${err instanceof Error ? err.message : String(err)}`;
}

/** WeCom says a media id the task used is unknown or expired: re-upload and try once more. */
export const isStaleMediaError = (err: unknown): boolean =>
  err instanceof WecomApiError && (err.errcode === 40007 || err.errcode === 40145);
