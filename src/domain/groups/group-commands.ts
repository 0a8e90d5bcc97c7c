import type { Types } from 'mongoose';
import { GroupWelcomeTemplateModel } from './group-welcome.model.js';
import { GroupModel } from './group.model.js';

/**
 * Group and welcome-template writes of the admin API (docs/architecture.md §10: routes call
 * these, never the group models). Pushing a template to WeCom is the worker's job
 * (`requestWelcomeSync`).
 */

export interface WelcomeTemplateInput {
  corpId: string;
  label: string;
  text?: string;
  imageUrl?: string;
  link?: { title: string; url: string; picurl?: string; desc?: string };
  notify: boolean;
}

/** Replaces a group's purpose tags; false when the corp has no such group. */
export async function setGroupPurposeTags(corpId: string, chatId: string, purposeTags: string[]): Promise<boolean> {
  const res = await GroupModel.updateOne({ corpId, chatId }, { $set: { purposeTags } });
  return res.matchedCount > 0;
}

/** Stores a new template (revision 0, not yet pushed); returns its id. */
export async function createWelcomeTemplate(body: WelcomeTemplateInput, createdBy: string): Promise<Types.ObjectId> {
  const t = await GroupWelcomeTemplateModel.create({ ...body, revision: 0, createdBy });
  return t._id;
}

/** Stores a template's new content as `revision`, to be pushed again. */
export async function updateWelcomeTemplate(
  id: Types.ObjectId,
  body: WelcomeTemplateInput,
  revision: number,
): Promise<void> {
  const unset = {
    ...(body.imageUrl ? {} : { imageUrl: 1 }),
    ...(body.link ? {} : { link: 1 }),
    ...(body.text ? {} : { text: 1 }),
  };
  await GroupWelcomeTemplateModel.updateOne(
    { _id: id },
    { $set: { ...body, revision, syncStatus: 'pending' }, $unset: unset },
  );
}

/** Marks a template deleted as `revision` (the worker removes it from WeCom). */
export async function markWelcomeTemplateDeleted(id: Types.ObjectId, revision: number): Promise<void> {
  await GroupWelcomeTemplateModel.updateOne({ _id: id }, { $set: { deleted: true, revision, syncStatus: 'pending' } });
}
