import { randomUUID } from 'node:crypto';
import { signWebhook } from '../../src/domain/webhooks/webhook-signature.js';

/** What the arrival step needs of the story: the admin API, the bot, the demo corp and the DMS webhook secret. */
export interface ArrivalTarget {
  botUrl: string;
  corpId: string;
  /** The demo corp's DMS webhook secret (`DMS_WEBHOOK_SECRET`, written by npm run dev). */
  dmsSecret: string;
}

export interface Arrival {
  customer: string;
  roNumber: string;
  revenue: number;
  /** The advisor the repair order's revenue was credited to (last touch), or undefined when organic. */
  attributedTo?: string;
  attributedRevenue: number;
}

type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * The story's outcome (docs/outcomes.md): the owner whose follow-up 张伟 closed as 已预约到店
 * arrives. The DMS sends the vehicle (linked to the customer by external_userid) and then the
 * repair order through the signed webhook, as a DMS would; the bot matches it by VIN, and the
 * attribution (last touch within the service window) credits 张伟's follow-up, read back from
 * `GET /api/v1/kpis/outcomes` grouped by advisor.
 */
export async function playArrival(t: ArrivalTarget, api: Api, startMs: number, say: (line: string) => void) {
  const { tasks } = await api<{ tasks: Array<{ customerId: string; outcome?: string }> }>(
    'GET',
    `/tasks?corpId=${t.corpId}&advisor=zhangwei&status=done&limit=20`,
  );
  const booked = tasks.find((task) => task.outcome === 'appointment_booked');
  if (!booked) throw new Error('the demo found no follow-up done as 已预约到店 to end on');
  const profile = await api<{ externalUserId: string; displayName?: string }>('GET', `/customers/${booked.customerId}`);
  const { now } = await api<{ now: string }>('GET', '/ops/clock');
  const at = new Date(now);
  // One VIN per run (17 characters, no I, O or Q), so a replayed demo adds its own vehicle.
  const vin = `LVSHDEM${String(startMs % 10_000_000_000).padStart(10, '0')}`;
  await api('POST', '/vehicles', {
    corpId: t.corpId,
    vin,
    model: '星途 瑶光',
    deliveryDate: new Date(startMs).toISOString().slice(0, 10),
    salesUserid: 'zhangwei',
    externalUserId: profile.externalUserId,
  });
  const roNumber = `RO-DEMO-${startMs}`;
  const labour = 280;
  const parts = 400;
  const body = JSON.stringify({
    outcomes: [
      {
        externalId: roNumber,
        version: 1,
        type: 'repair_order',
        occurredAt: new Date(at.getTime() - 60_000).toISOString(),
        vin,
        roNumber,
        roType: 'first_maintenance',
        labourAmount: labour,
        partsAmount: parts,
        mileageKm: 3_000,
      },
    ],
  });
  // Signed at the shared clock's time: the webhook checks the timestamp against the bot's clock.
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(at.getTime() / 1000);
  const res = await fetch(`${t.botUrl}/webhooks/dms/${t.corpId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(t.dmsSecret, id, ts, body),
    },
    body,
  });
  if (!res.ok) throw new Error(`the DMS webhook answered ${res.status}: ${await res.text()}`);
  const customer = profile.displayName ?? booked.customerId;
  say(
    `🔧 ${customer} arrives for the first maintenance: the DMS sends repair order ${roNumber} (¥${labour + parts}) through the signed webhook`,
  );
  const range = `from=${encodeURIComponent(new Date(startMs - 86_400_000).toISOString())}&to=${encodeURIComponent(new Date(at.getTime() + 3_600_000).toISOString())}`;
  const { funnel } = await api<{ funnel: Array<{ key: string; arrived: number; revenue: number }> }>(
    'GET',
    `/kpis/outcomes?corpId=${t.corpId}&${range}&by=advisor`,
  );
  const credited = funnel.find((row) => row.key === 'zhangwei' && row.arrived > 0);
  say(
    credited
      ? `🎯 attributed to 张伟's follow-up (已预约到店, the last touch before the arrival): ${credited.arrived} arrival(s), ¥${credited.revenue} credited to 张伟`
      : `🎯 not attributed: no follow-up touch within the window (organic)`,
  );
  return {
    customer,
    roNumber,
    revenue: labour + parts,
    attributedTo: credited ? 'zhangwei' : undefined,
    attributedRevenue: credited?.revenue ?? 0,
  } satisfies Arrival;
}
