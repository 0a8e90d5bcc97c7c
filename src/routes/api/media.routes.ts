import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { createMediaAsset, describeMediaAsset } from '../../domain/messages/media-assets.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** WeCom accepts JPG and PNG images for welcomes and mass sends (docs/wecom.md §3.9, §3.10). */
const IMAGE_TYPES = { 'image/png': [0x89, 0x50, 0x4e, 0x47], 'image/jpeg': [0xff, 0xd8, 0xff] } as const;
/** The API's JSON body limit is 2 MB; base64 costs a third, so images up to 1.5 MB. */
const MAX_IMAGE_BYTES = 1_500_000;

const uploadSchema = z
  .object({
    /** `all` (every corp) or one corp id, like a rule's scope. */
    scope: z.string().min(1).max(64),
    filename: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[^/\\]+$/, { error: 'a file name without folders' }),
    contentType: z.enum(Object.keys(IMAGE_TYPES) as ['image/png', 'image/jpeg'], {
      error: 'images must be image/png or image/jpeg',
    }),
    dataBase64: z.string().min(1, { error: 'the image bytes, base64-encoded' }),
  })
  .strict();

/**
 * `/api/v1/media`: images for welcome and message attachments. Stored in MongoDB; each
 * corp's WeCom temporary media id is uploaded when first needed and renewed before its 3-day expiry.
 */
export function createMediaRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/media', async function uploadImage(ctx) {
    const input = parseOrThrow(uploadSchema, bodyOf(ctx));
    const principal = principalOf(ctx);
    if (input.scope !== 'all') assertCorp(principal, input.scope);
    else if (principal.corps !== '*')
      throw new ValidationError([
        { path: '/scope', message: 'only car-maker and admin users upload images for all corps; use your corp id' },
      ]);
    const data = Buffer.from(input.dataBase64, 'base64');
    const magic = IMAGE_TYPES[input.contentType];
    if (data.length === 0 || data.length > MAX_IMAGE_BYTES)
      throw new ValidationError([
        { path: '/dataBase64', message: `the image must be 1 byte to ${MAX_IMAGE_BYTES / 1_000_000} MB` },
      ]);
    if (!magic.every((byte, i) => data[i] === byte))
      throw new ValidationError([{ path: '/dataBase64', message: `the bytes are not a ${input.contentType} image` }]);
    const asset = await createMediaAsset({
      filename: input.filename,
      contentType: input.contentType,
      data,
      scope: input.scope,
    });
    await recordAudit({
      actor: principal,
      action: 'media.create',
      target: { type: 'media', id: asset.id, corpId: input.scope === 'all' ? undefined : input.scope },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.status = 201;
    ctx.body = {
      id: asset.id,
      filename: asset.filename,
      contentType: asset.contentType,
      bytes: data.length,
      scope: asset.scope,
    };
  });
  router.get('/media/:id', async function describeImage(ctx) {
    const id = ctx.params.id ?? '';
    const asset = await describeMediaAsset(id);
    const principal = principalOf(ctx);
    if (!asset || (asset.scope !== 'all' && principal.corps !== '*' && !principal.corps.includes(asset.scope)))
      throw new NotFoundError(`no image ${id}`, 'media_not_found');
    ctx.body = {
      id,
      filename: asset.filename,
      contentType: asset.contentType,
      scope: asset.scope,
      uploads: asset.uploads,
    };
  });
  return router;
}
