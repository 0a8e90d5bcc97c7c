import { Types } from 'mongoose';
import type { Queues } from '../../queues/queue-factory.js';
import { groupWelcomeSyncJob } from '../../queues/jobs/groups.jobs.js';
import type { GroupWelcomeTemplateBody } from '../../wecom/endpoints/groups.js';
import { WecomApiError } from '../../wecom/errors.js';
import type { GroupDeps } from './group-refresh.service.js';
import { GroupWelcomeTemplateModel, type GroupWelcomeTemplateDocument } from './group-welcome.model.js';

/** WeCom's limits for the text and the link (docs/wecom.md §11.6), checked before anything is stored. */
export const WELCOME_TEXT_MAX_BYTES = 3000;
export const MAX_WELCOME_TEMPLATES = 100;

/** Asks the worker to push the template's current revision. */
export async function requestWelcomeSync(
  queues: Queues,
  corpId: string,
  templateId: string,
  revision: number,
): Promise<void> {
  await groupWelcomeSyncJob.enqueue(queues, { corpId, templateId, revision });
}

function bodyOf(t: GroupWelcomeTemplateDocument): GroupWelcomeTemplateBody & { notify?: 0 | 1 } {
  return {
    ...(t.text ? { text: { content: t.text } } : {}),
    ...(t.imageUrl
      ? { image: { pic_url: t.imageUrl } }
      : t.link?.url
        ? {
            link: {
              title: t.link.title ?? '',
              url: t.link.url,
              ...(t.link.picurl ? { picurl: t.link.picurl } : {}),
              ...(t.link.desc ? { desc: t.link.desc } : {}),
            },
          }
        : {}),
  };
}

/**
 * Pushes a template revision to WeCom: add (keeps the `template_id`), edit, or del for a deleted
 * one (then the row goes). An older revision than the stored one is skipped: its newer job follows.
 * Refusals (41055 over 100 templates, 41058 not this app's) are kept on the row in words.
 */
export async function syncGroupWelcomeTemplate(
  deps: GroupDeps,
  templateId: string,
  revision: number,
): Promise<{ status: string }> {
  const t = await GroupWelcomeTemplateModel.findOne({
    _id: new Types.ObjectId(templateId),
    corpId: deps.corpId,
  }).lean();
  if (!t) return { status: 'missing' };
  if (revision < t.revision) return { status: 'superseded' };
  try {
    if (t.deleted) {
      if (t.wecomTemplateId)
        await deps.api.groupWelcomeTemplateDel(t.wecomTemplateId).catch((err: unknown) => {
          if (!(err instanceof WecomApiError && err.errcode === 40058)) throw err; // already gone
        });
      await GroupWelcomeTemplateModel.deleteOne({ _id: t._id });
      return { status: 'deleted' };
    }
    if (!t.wecomTemplateId) {
      const res = await deps.api.groupWelcomeTemplateAdd({ ...bodyOf(t), notify: t.notify ? 1 : 0 });
      await GroupWelcomeTemplateModel.updateOne({ _id: t._id }, { $set: { wecomTemplateId: res.template_id } });
    } else {
      await deps.api.groupWelcomeTemplateEdit({ template_id: t.wecomTemplateId, ...bodyOf(t) });
    }
    await GroupWelcomeTemplateModel.updateOne(
      { _id: t._id, revision },
      { $set: { syncedRevision: revision, syncStatus: 'synced' }, $unset: { syncError: 1 } },
    );
    return { status: 'synced' };
  } catch (err) {
    if (!(err instanceof WecomApiError) || err.retryable) throw err;
    const words: Record<number, string> = {
      41055: '企业的入群欢迎语已达 100 条上限',
      41058: '该欢迎语不是本应用创建的，不能修改或删除',
      41089: '文字和附件不能同时为空',
    };
    await GroupWelcomeTemplateModel.updateOne(
      { _id: t._id, revision },
      { $set: { syncStatus: 'failed', syncError: words[err.errcode] ?? `企业微信错误码 ${err.errcode}` } },
    );
    return { status: 'failed' };
  }
}
