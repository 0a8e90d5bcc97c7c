import { dayjs, type Dayjs } from '../../src/infra/clock.js';
import { playArrival, type Arrival } from './arrival.js';

/** The address a person opens (the README's host): the processes reach the bot on 127.0.0.1. */
const publicUrlOf = (botUrl: string) => botUrl.replace('//127.0.0.1:', '//localhost:');

/** Where the story plays: a running bot (`npm run dev`) and its WeCom sandbox. */
export interface DemoTarget {
  botUrl: string;
  sandboxUrl: string;
  adminToken: string;
  corpId: string;
  timeZone: string;
  /** The demo corp's DMS webhook secret: when given, the story ends with the booked owner's arrival. */
  dmsSecret?: string;
}

export interface DemoOutcome {
  welcomes: number;
  ownerTagMarks: number;
  advisorCards: number;
  cardUpdates: number;
  leaderCards: number;
  kpi: { due: number; doneOnTime: number; doneLate: number; overdueOpen: number; escalated: number };
  /** The booked owner's repair order and whom it was attributed to (with a DMS secret only). */
  arrival?: Arrival;
}

interface SandboxMessage {
  msgid: string;
  atMs: number;
  msgtype: string;
  touser: string[];
  body: { template_card?: { task_id?: string; main_title?: { title?: string }; card_type?: string } } & Record<
    string,
    unknown
  >;
  taskId?: string;
}
interface SandboxCorp {
  messages: SandboxMessage[];
  cardUpdates: Array<{ taskId?: string; atMs: number } & Record<string, unknown>>;
  welcomes: Array<{ external_userid: string; text?: string }>;
  tags: Array<{ id: string; name: string }>;
}
interface CallEntry {
  seq: number;
  endpoint: string;
  body?: { add_tag?: string[]; userid?: string };
}

/**
 * The newcomer's story (docs/architecture.md §8), played through the sandbox with the shared clock: two customers
 * add advisor 张伟 through the delivery QR code, are welcomed and tagged 保客; the next morning the
 * delivery-care cards arrive; 张伟 completes one and ignores the other, which is escalated to the
 * manager 王强 that evening; the KPI summary follows, and (with the DMS webhook secret) the booked
 * owner arrives and the repair order is attributed to 张伟's follow-up. `say` prints each step.
 */
export async function playDemo(t: DemoTarget, say: (line: string) => void): Promise<DemoOutcome> {
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${t.botUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const sandbox = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${t.sandboxUrl}/__sandbox${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const world = async () =>
    (await sandbox<{ corps: SandboxCorp[] }>('GET', `/world?corpId=${t.corpId}`)).corps[0] as SandboxCorp;
  const calls = async (endpoint: string, since: number) =>
    (await sandbox<{ calls: CallEntry[] }>('GET', `/calls?endpoint=${encodeURIComponent(endpoint)}&since=${since}`))
      .calls;
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`the demo waited ${timeoutMs / 1000} s for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const moveClockTo = async (target: Dayjs, label: string) => {
    await api('POST', '/ops/clock', { offsetMs: Math.max(0, target.valueOf() - Date.now()) });
    await new Promise((r) => setTimeout(r, 1500)); // the worker and the sandbox follow within a second
    say(`⏩ the shared clock now reads ${target.format('MM-DD HH:mm')} (${label})`);
  };

  const startSeq = (await sandbox<{ lastSeq: number }>('GET', '/calls?endpoint=-')).lastSeq;
  let now = dayjs((await api<{ now: string }>('GET', '/ops/clock')).now).tz(t.timeZone);
  // Played before (this run of npm run dev, or before a restart, which resets the clock): start
  // on the day after everything earlier runs did, so their cards and numbers stay out of this one.
  const before = await world();
  const latestMs = Math.max(0, ...before.messages.map((m) => m.atMs), ...before.cardUpdates.map((u) => u.atMs));
  if (latestMs > 0 && before.messages.some((m) => m.body.template_card?.task_id?.startsWith('tk-'))) {
    now = dayjs(Math.max(latestMs, now.valueOf())).tz(t.timeZone).add(1, 'day').hour(9).minute(0).second(0);
    await moveClockTo(now, 'a new day for this run: the demo was played before');
  }
  const startMs = now.valueOf();
  say(`📅 ${now.format('YYYY-MM-DD HH:mm')} at 星途汽车城南4S店 (a fictional dealer in the sandbox)`);

  // 1. Two customers scan 张伟's delivery QR code.
  const customers = ['测试车主甲', '测试车主乙'];
  for (const name of customers) {
    await sandbox('POST', '/actions/addCustomer', {
      corpId: t.corpId,
      userid: 'zhangwei',
      customer: { name },
      state: 'delivery_demo',
    });
    say(`👤 ${name} scans 张伟's delivery QR code (channel state delivery_demo)`);
  }
  const welcomes = await until('the two welcomes', async () => {
    const sent = await calls('externalcontact/send_welcome_msg', startSeq);
    return sent.length >= 2 ? sent : undefined;
  });
  say(`💬 WeCom received send_welcome_msg ×${welcomes.length}: "${(await world()).welcomes.at(-1)?.text ?? ''}"`);
  const ownerTag = (await world()).tags.find((tag) => tag.name === '保客')?.id;
  const marks = await until('the 保客 tags', async () => {
    const found = (await calls('externalcontact/mark_tag', startSeq)).filter(
      (c) => ownerTag && c.body?.add_tag?.includes(ownerTag),
    );
    return found.length >= 2 ? found : undefined;
  });
  say(`🏷  mark_tag 保客 on ${marks.length} relationships: both are retained customers now`);

  // 2. Next morning: the delivery-care follow-ups fall due at 10:00.
  await moveClockTo(now.add(1, 'day').hour(10).minute(5).second(0), 'the next morning');
  await api('POST', '/ops/sweep');
  const cards = await until('the advisor cards', async () => {
    const found = (await world()).messages.filter(
      (m) =>
        m.atMs >= startMs &&
        m.touser.includes('zhangwei') &&
        m.msgtype === 'template_card' &&
        m.body.template_card?.task_id?.startsWith('tk-'),
    );
    return found.length >= 2 ? found : undefined;
  });
  for (const card of cards)
    say(
      `📇 张伟 sees a task card: "${card.body.template_card?.main_title?.title ?? ''}" [已联系] [已预约到店] [客户婉拒] [明天再说] [联系不上]`,
    );

  // 3. 张伟 books an appointment with the first customer; the card shows the result.
  const first = cards[0]?.body.template_card?.task_id as string;
  await sandbox('POST', '/actions/clickCardButton', {
    corpId: t.corpId,
    userid: 'zhangwei',
    taskId: first,
    eventKey: 'done:appointment_booked',
  });
  await until('the card update', async () =>
    (await world()).cardUpdates.some((u) => JSON.stringify(u).includes(first)) ? true : undefined,
  );
  say('✅ 张伟 taps 已预约到店: the task is done on time and the card now shows the result');

  // 4. The second task is ignored: reminder at due + SLA, the manager's card at the escalation threshold.
  await moveClockTo(now.add(1, 'day').hour(19).minute(10).second(0), 'the same evening, 9 hours after due');
  const leaderCards = await until(
    'the manager escalation card',
    async () => {
      await api('POST', '/ops/tick');
      await new Promise((r) => setTimeout(r, 1000));
      const found = (await world()).messages.filter(
        (m) => m.atMs >= startMs && m.touser.includes('wangqiang') && m.body.template_card?.task_id?.startsWith('te-'),
      );
      return found.length > 0 ? found : undefined;
    },
    45_000,
  );
  say(
    `🚨 The other task is still open: 张伟 was reminded, and manager 王强 gets an escalation card: "${leaderCards[0]?.body.template_card?.main_title?.title ?? ''}"`,
  );

  // 4b. 张伟 opens the chat with the customer whose follow-up is due; the sidebar beside it shows the rest.
  await showSidebar(t, api, say);

  // 5. The numbers.
  const from = now.startOf('day').toISOString();
  const to = now.add(3, 'day').toISOString();
  // The escalation is recorded on the task just after its card is sent: wait until the numbers show it.
  const k = await until('the escalation in the KPI numbers', async () => {
    const { total } = await api<{ total: DemoOutcome['kpi'] }>(
      'GET',
      `/kpis/tasks?corpId=${t.corpId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&advisor=zhangwei`,
    );
    return total.escalated >= 1 ? total : undefined;
  });
  say(
    `📊 张伟's follow-ups: ${k.due} due, ${k.doneOnTime} done on time, ${k.doneLate} done late, ${k.overdueOpen} overdue, ${k.escalated} escalated`,
  );

  // 6. The cockpit's rollups now rather than at the next 15-minute tick, so the console shows these days.
  const cockpit = { from: now.format('YYYY-MM-DD'), to: now.add(2, 'day').format('YYYY-MM-DD') };
  await api('POST', '/ops/kpis');
  const totals = await until('the cockpit rollups', async () => {
    const o = await api<{ totals: Record<string, number | null> }>(
      'GET',
      `/kpis/overview?corpId=${t.corpId}&from=${cockpit.from}&to=${cockpit.to}&granularity=day&groupBy=advisor`,
    );
    // Follow-ups are dated by the shared clock; welcomes and adds by the time they were recorded,
    // which on a second run (clock already moved) can lie before these days.
    return (o.totals.tasks_due ?? 0) >= 2 ? o.totals : undefined;
  });
  say(
    `🧭 the console's cockpit (${publicUrlOf(t.botUrl)}/console/cockpit) for ${cockpit.from}…: ${totals.customers_added ?? 0} new customers, ${totals.new_owners ?? 0} new retained customers, ${totals.welcomes_sent ?? 0} welcomes sent, ${totals.tasks_due ?? 0} follow-ups due`,
  );
  // 7. The outcome: the owner who booked arrives; the DMS's repair order is credited to 张伟's follow-up.
  const arrival = t.dmsSecret
    ? await playArrival({ botUrl: t.botUrl, corpId: t.corpId, dmsSecret: t.dmsSecret }, api, startMs, say)
    : undefined;
  return {
    ...(arrival ? { arrival } : {}),
    welcomes: welcomes.length,
    ownerTagMarks: marks.length,
    advisorCards: cards.length,
    cardUpdates: (await world()).cardUpdates.filter((u) => JSON.stringify(u).includes(first)).length,
    leaderCards: leaderCards.length,
    kpi: {
      due: k.due,
      doneOnTime: k.doneOnTime,
      doneLate: k.doneLate,
      overdueOpen: k.overdueOpen,
      escalated: k.escalated,
    },
  };
}

/**
 * The chat sidebar (docs/console.md, "Advisor sidebar") as 张伟 sees it in the chat with the
 * customer of his open follow-up: the same API call the page makes, with a token acting as him,
 * and the URL that opens the page with the sandbox's JS-SDK stand-in in that chat.
 */
async function showSidebar(
  t: DemoTarget,
  api: <T>(method: string, path: string, body?: unknown) => Promise<T>,
  say: (line: string) => void,
): Promise<void> {
  const { tasks } = await api<{ tasks: Array<{ id: string; customerId: string }> }>(
    'GET',
    `/tasks?corpId=${t.corpId}&advisor=zhangwei&status=open&limit=1`,
  );
  const task = tasks[0];
  if (!task) return;
  const profile = await api<{ externalUserId: string }>('GET', `/customers/${task.customerId}`);
  const { token } = await api<{ token: string }>('POST', '/tokens', {
    role: 'advisor',
    corps: [t.corpId],
    userid: 'zhangwei',
    label: 'demo: 张伟 in the sidebar',
  });
  const res = await fetch(
    `${t.botUrl}/api/v1/sidebar/customer?corpId=${t.corpId}&externalUserid=${encodeURIComponent(profile.externalUserId)}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  if (!res.ok) throw new Error(`GET /sidebar/customer: ${res.status} ${await res.text()}`);
  const view = (await res.json()) as {
    customer: { displayName: string; lifecycle: { stage: string } };
    vehicles: unknown[];
    tasks: Array<{ title: string; overdue: boolean; talkTrack?: string }>;
  };
  const due = view.tasks[0];
  say(
    `🪟 张伟 opens the chat with ${view.customer.displayName}; the sidebar shows: ${view.customer.lifecycle.stage}, ${view.vehicles.length} vehicle(s), due task "${due?.title ?? '—'}"${due?.overdue ? ' (overdue)' : ''}${due?.talkTrack ? `, talk track "${due.talkTrack.slice(0, 40)}…"` : ''}`,
  );
  say(
    `   open it yourself: ${publicUrlOf(t.botUrl)}/console/sidebar?sandboxChat=${encodeURIComponent(profile.externalUserId)}  (sign in as 张伟; the sandbox's JS-SDK stand-in plays the WeCom client)`,
  );
}
