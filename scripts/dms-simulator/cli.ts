/**
 * Feeds simulated DMS outcomes for a corp's vehicles through the signed webhook, as a DMS would:
 *   npm run dms:simulate -- --corp <corpId> --secret whsec_... [--url http://localhost:3000]
 *     [--from 2026-01-01] [--days 90] [--seed 1] [--uplift 0.2]
 * Owners with a task of the corp done as contacted/booked count as invited on that day, so the
 * planted response to invitations shows in attribution and in holdout reports. Deliveries of 500
 * items each, signed with the Standard Webhooks scheme (docs/outcomes.md).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { signWebhook } from '../../src/domain/webhooks/webhook-signature.js';
import { SharedOffsetClock } from '../../src/infra/clock.js';
import { fail, openCliContext } from '../lib/cli-context.js';
import { simulateOutcomes, type SimOwner } from './generate.js';

const USAGE =
  'usage: npm run dms:simulate -- --corp <corpId> --secret whsec_... [--url http://localhost:3000] [--from YYYY-MM-DD] [--days 90] [--seed 1] [--uplift 0.2]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corp: { type: 'string' },
      secret: { type: 'string' },
      url: { type: 'string' },
      from: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string' },
      uplift: { type: 'string' },
    },
  });
  if (!values.corp || !values.secret?.startsWith('whsec_')) fail(USAGE);
  const days = Number(values.days ?? 90);
  if (!Number.isInteger(days) || days < 1 || days > 730) fail('--days: 1 to 730');
  const ctx = await openCliContext('dms-simulator');
  let owners: SimOwner[];
  let from: Date;
  let nowMs: number;
  try {
    // In development the bot runs on the shared clock (npm run demo moves it ahead): sign and date
    // on that clock, or the webhook refuses the timestamp and the outcomes land in the past.
    const offset = ctx.config.isProduction
      ? 0
      : await new SharedOffsetClock(ctx.redis, ctx.config.redis.queuePrefix).refresh();
    nowMs = Date.now() + offset;
    from = new Date(`${values.from ?? new Date(nowMs - days * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(from.getTime())) fail('--from: use a date like 2026-01-01');
    const vehicles = await VehicleModel.find(
      { corpId: values.corp },
      { vin: 1, deliveryDate: 1, insuranceExpiry: 1, customerId: 1 },
    ).lean();
    const invites = await TaskModel.find(
      { corpId: values.corp, status: 'done', outcome: { $in: ['contacted', 'appointment_booked'] } },
      { customerId: 1, completedAt: 1 },
    ).lean();
    const invitedAt = new Map(invites.map((t) => [String(t.customerId), t.completedAt as Date]));
    owners = vehicles.map((v) => ({
      vin: v.vin,
      deliveryDate: v.deliveryDate ?? from,
      insuranceExpiry: v.insuranceExpiry ?? undefined,
      invitedAt: v.customerId ? invitedAt.get(String(v.customerId)) : undefined,
    }));
  } finally {
    await ctx.close();
  }
  const outcomes = simulateOutcomes(owners, {
    seed: Number(values.seed ?? 1),
    from,
    days,
    invitationUplift: Number(values.uplift ?? 0.2),
    baseMonthlyArrival: 0.08,
  });
  const url = `${values.url ?? 'http://localhost:3000'}/webhooks/dms/${values.corp}`;
  const totals: Record<string, number> = {};
  for (let i = 0; i < outcomes.length; i += 500) {
    const body = JSON.stringify({ outcomes: outcomes.slice(i, i + 500) });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(nowMs / 1000);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(values.secret, id, ts, body),
      },
      body,
    });
    const answer = (await res.json()) as { summary?: Record<string, number>; error?: { message: string } };
    if (!res.ok) fail(`the webhook answered ${res.status}: ${answer.error?.message ?? ''}`, 1);
    for (const [k, v] of Object.entries(answer.summary ?? {})) totals[k] = (totals[k] ?? 0) + v;
  }
  console.log(
    `${owners.length} vehicles, ${outcomes.length} outcomes sent: ${Object.entries(totals)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}

main().catch((err: unknown) => fail(`simulator failed: ${(err as Error).message}`, 1));
