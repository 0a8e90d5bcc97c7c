import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';
import { mediaForm } from './messages.js';

/** `upload_attachment`'s `attachment_type`: 1 Moments, 2 product album (docs/wecom.md §12.3). */
export const ATTACHMENT_TYPE_MOMENTS = 1;

export interface UploadAttachmentResponse extends WecomBaseResponse {
  type: 'image' | 'video' | 'file';
  /** Valid 3 days. */
  media_id: string;
  created_at: number | string;
}

export interface AddMomentTaskRequest {
  text?: { content: string };
  /** One kind only: ≤ 9 images, or 1 video, or 1 link (docs/wecom.md §12.1). */
  attachments?: Array<Record<string, unknown> & { msgtype: 'image' | 'video' | 'link' }>;
  visible_range?: {
    sender_list?: { user_list?: string[]; department_list?: number[] };
    external_contact_list?: { tag_list: string[] };
  };
}

export interface MomentTaskResultResponse extends WecomBaseResponse {
  /** 1 started, 2 running, 3 done. */
  status: number;
  result?: { errcode: number; errmsg: string; moment_id?: string; invalid_sender_list?: { user_list?: string[] } };
}

/** Corp Moments tasks (docs/wecom.md §12). */
export function momentsApi(call: Caller) {
  return {
    /** `POST externalcontact/add_moment_task`: asynchronous; answers a `jobid` valid 24 h. */
    addMomentTask: (req: AddMomentTaskRequest) =>
      call<WecomBaseResponse & { jobid: string }>({
        endpoint: 'externalcontact/add_moment_task',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /**
     * `POST media/upload_attachment?media_type=&attachment_type=1`: a Moments attachment (image or
     * video), its `media_id` valid 3 days; not interchangeable with `media/upload` ids (docs/wecom.md §12.3).
     */
    uploadAttachment: (mediaType: 'image' | 'video', data: Uint8Array, filename: string, contentType: string) =>
      call<UploadAttachmentResponse>({
        endpoint: 'media/upload_attachment',
        method: 'POST',
        query: { media_type: mediaType, attachment_type: String(ATTACHMENT_TYPE_MOMENTS) },
        form: mediaForm(data, filename, contentType),
      }),
    /** `GET externalcontact/get_moment_task_result?jobid=`. */
    getMomentTaskResult: (jobid: string) =>
      call<MomentTaskResultResponse>({
        endpoint: 'externalcontact/get_moment_task_result',
        method: 'GET',
        query: { jobid },
      }),
    /** `POST externalcontact/get_moment_task`: who published (publish_status 1). */
    getMomentTask: (req: { moment_id: string; cursor?: string; limit?: number }) =>
      call<WecomBaseResponse & { task_list: Array<{ userid: string; publish_status: number }>; next_cursor?: string }>({
        endpoint: 'externalcontact/get_moment_task',
        method: 'POST',
        json: req,
      }),
    /** `POST externalcontact/get_moment_send_result`: customers who can see one advisor's post. */
    getMomentSendResult: (req: { moment_id: string; userid: string; cursor?: string; limit?: number }) =>
      call<WecomBaseResponse & { customer_list: Array<{ external_userid: string }>; next_cursor?: string }>({
        endpoint: 'externalcontact/get_moment_send_result',
        method: 'POST',
        json: req,
      }),
    /** `POST externalcontact/cancel_moment_task`: stops advisors who have not published. */
    cancelMomentTask: (momentId: string) =>
      call<WecomBaseResponse>({
        endpoint: 'externalcontact/cancel_moment_task',
        method: 'POST',
        json: { moment_id: momentId },
      }),
  };
}
