import type { z } from 'zod';
import type { ruleCreateSchema } from './rule.schema.js';

type Example = { title: string; why: string; rule: z.input<typeof ruleCreateSchema> };

/**
 * The five campaigns of the README walkthrough (npm run dev loads them, plus the demo's delivery-care rule), as JSON one can POST to /api/v1/rules. Kept in
 * code so a test proves every example is valid against the schema.
 */
export const ruleExamples: Example[] = [
  {
    title: 'Delivery welcome + tag',
    why: 'Customers who scan the delivery-ceremony QR code (state delivery_*) get a welcome with the owner manual and are tagged as owners.',
    rule: {
      name: '交车欢迎',
      scope: 'ww5a1c0d3e7f9b2468',
      enabled: true,
      priority: 200,
      trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
      actions: [
        {
          type: 'welcome',
          text: '恭喜您喜提爱车！我是您的专属顾问，用车问题随时找我。',
          attachments: [
            { type: 'link', title: '车主手册', url: 'https://example.com/owner-manual', desc: '保养周期、质保政策' },
          ],
        },
        // The bot's default owner tag (客户分层/保客): another group would give owners a second 保客.
        { type: 'tag', add: [{ group: '客户分层', name: '保客' }] },
      ],
    },
  },
  {
    title: 'First-maintenance invitation',
    why: '150 days after delivery, at 10:00 local time, the responsible advisor gets a follow-up with a talk track; escalated to the manager after 2 days.',
    rule: {
      name: '首保邀约',
      scope: 'all',
      trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
      conditions: { lifecycle: ['owner'] },
      actions: [
        {
          type: 'follow_up',
          title: '首保邀约',
          talkTrack: '您好，您的爱车快到首次保养了，这周方便安排吗？',
          sla: '48h',
          escalation: { after: '48h', to: 'manager' },
        },
      ],
    },
  },
  {
    title: 'Insurance renewal',
    why: '60 days before the insurance expires, a follow-up for the advisor and a message the advisor confirms in WeCom (quiet hours and the monthly cap apply).',
    rule: {
      name: '续保提醒',
      scope: 'all',
      trigger: { type: 'date', field: 'insuranceExpiry', offset: '-60d at 09:30' },
      actions: [
        { type: 'follow_up', title: '续保跟进', talkTrack: '您的车险将在两个月后到期，我们有续保优惠。', sla: '72h' },
        { type: 'message_customer', text: '尊敬的车主，您的车险即将到期，回复本消息即可获取续保报价。' },
      ],
    },
  },
  {
    title: 'Birthday greeting',
    why: "Every year on the customer's birthday at 09:00 the advisor confirms a greeting.",
    rule: {
      name: '生日祝福',
      scope: 'all',
      trigger: { type: 'date', field: 'birthday', offset: '+0d at 09:00' },
      conditions: { lifecycle: ['owner'] },
      actions: [{ type: 'message_customer', text: '生日快乐！祝您用车愉快，到店可领取生日礼品一份。' }],
    },
  },
  {
    title: 'Lost-customer win-back',
    why: 'When an owner deletes their advisor, the manager-side team gets a notice and a follow-up three days later.',
    rule: {
      name: '流失挽回',
      scope: 'ww5a1c0d3e7f9b2468',
      trigger: { type: 'customer.lost' },
      actions: [
        {
          type: 'notify_advisor',
          format: 'card',
          title: '客户流失提醒',
          text: '一位车主删除了好友，请了解原因并尝试挽回。',
        },
        {
          type: 'follow_up',
          title: '流失客户回访',
          dueIn: '3d',
          at: '10:00',
          sla: '24h',
          escalation: { after: '24h', to: 'manager' },
        },
      ],
    },
  },
];
