import { z } from 'zod';
import { CHANNEL_KINDS } from './channel.model.js';

const userid = z.string().min(1).max(64);

/** A channel as the console and API create it (docs/acquisition.md "Channel codes"). */
export const channelCreateSchema = z
  .object({
    corpId: z.string().min(1),
    name: z.string().trim().min(1, { error: 'give the channel a name' }).max(60, { error: 'at most 60 characters' }),
    kind: z.enum(CHANNEL_KINDS, { error: `kind is one of ${CHANNEL_KINDS.join(', ')}` }),
    campaign: z.string().trim().min(1).max(60).optional(),
    advisors: z
      .array(userid)
      .min(1, { error: 'name at least one advisor (WeCom userid)' })
      .max(100, { error: 'WeCom allows at most 100 members on a code' }),
    skipVerify: z.boolean().default(true),
    cost: z.number().min(0).max(100_000_000).optional(),
    vehicleVin: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-HJ-NPR-Z0-9]{17}$/, { error: 'a VIN is 17 characters (no I, O, Q)' })
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.kind === 'personal' || c.kind === 'lead') && c.advisors.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['advisors'], message: `a ${c.kind} code belongs to exactly one advisor` });
    }
    if (c.vehicleVin && c.kind !== 'delivery')
      ctx.addIssue({
        code: 'custom',
        path: ['vehicleVin'],
        message: 'only a delivery-ceremony code carries a vehicle',
      });
  });

/** An edit: any of the editable fields; kind and corp never change. */
export const channelUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(60).optional(),
    campaign: z.string().trim().min(1).max(60).nullable().optional(),
    advisors: z.array(userid).min(1).max(100).optional(),
    skipVerify: z.boolean().optional(),
    cost: z.number().min(0).max(100_000_000).nullable().optional(),
  })
  .strict();

export type ChannelCreate = z.output<typeof channelCreateSchema>;
export type ChannelUpdate = z.output<typeof channelUpdateSchema>;
