import { CustomerModel } from '../customers/customer.model.js';
import { defaultPrivacySettings, noticeLine, type PrivacySettings } from './privacy-settings.js';

/** How a notice reached the customer. */
export type NoticeChannel = 'welcome';

/** The corp's notice line for the welcome text, with its version, or undefined when it sends none. */
export function welcomeNotice(settings: PrivacySettings | undefined): { line: string; version: string } | undefined {
  const s = settings ?? defaultPrivacySettings;
  const line = noticeLine(s);
  return line ? { line, version: s.notice.version } : undefined;
}

/** The welcome text with the notice line appended (separated by a blank line). */
export function withNotice(text: string | undefined, notice: { line: string } | undefined): string | undefined {
  if (!notice) return text;
  return text ? `${text}\n\n${notice.line}` : notice.line;
}

/**
 * Records on the customer which notice version was sent, when and how (PIPL Art. 14 and 17:
 * informed consent needs proof of what the person was told). The welcome goes out before the
 * customer is stored, so this upserts the customer by its external_userid with the same initial
 * lifecycle the customer refresh would set.
 */
export async function recordNoticeSent(input: {
  corpId: string;
  externalUserId: string;
  version: string;
  at: Date;
  channel: NoticeChannel;
}): Promise<void> {
  await CustomerModel.updateOne(
    { corpId: input.corpId, externalUserId: input.externalUserId },
    {
      $set: { privacyNotice: { version: input.version, sentAt: input.at, channel: input.channel } },
      $setOnInsert: {
        lifecycle: { stage: 'prospect', reason: 'added', changedAt: input.at },
        lifecycleHistory: [{ stage: 'prospect', reason: 'added', at: input.at }],
      },
    },
    { upsert: true },
  );
}
