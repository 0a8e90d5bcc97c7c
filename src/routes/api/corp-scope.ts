import { CorpModel } from '../../domain/corps/corp.model.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { NotFoundError, ValidationError } from '../../infra/errors.js';

/**
 * The dealer corp a request acts on, checked against the corps collection: unknown → 404, the car
 * maker's own corp (no customers) → 422. Returns its time zone for calendar dates.
 */
export async function requireDealerCorp(corpId: unknown, defaultTimezone: string): Promise<{ corpId: string; timeZone: string }> {
  const parsed = corpIdSchema.safeParse(corpId);
  if (!parsed.success) throw new ValidationError([{ path: '/corpId', message: 'required: the WeCom corp id of the dealer' }]);
  const corp = await CorpModel.findOne({ corpId: parsed.data }, { kind: 1, timezone: 1, enabled: 1 }).lean();
  if (!corp) throw new NotFoundError(`no corp ${parsed.data}; add it with npm run corp -- add`, 'corp_not_found');
  if (corp.kind === 'oem') throw new ValidationError([{ path: '/corpId', message: "is the car maker's own corp; customers and vehicles belong to dealer corps" }]);
  return { corpId: parsed.data, timeZone: corp.timezone ?? defaultTimezone };
}
