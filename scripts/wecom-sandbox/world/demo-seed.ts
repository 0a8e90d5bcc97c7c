import type { SeedScenario } from './seed-schema.js';

/** Fixed ids so a developer's bot config can point at the demo corp. All data is made up. */
export const DEMO_CORP_ID = 'ww5a1c0d3e7f9b2468';
export const DEMO_SECRET = 'sandbox-demo-secret-not-a-real-one-0000000';
export const DEMO_CALLBACK = {
  token: 'SandboxDemoToken2024',
  encodingAesKey: 'SandboxDemoAesKey000000000000000000000000ab',
};
export const DEMO_CONTACT_SYNC = {
  token: 'SandboxSyncToken2024',
  encodingAesKey: 'SandboxSyncAesKey000000000000000000000000cd',
};

/**
 * The demo: one dealer (星途汽车城南4S店, fictional), a sales manager and four advisors, a
 * 客户阶段 tag group (潜客, 意向, 已购车), the owner tag 客户分层/保客 the bot applies by default, and a handful of customers with fake 138-0000-xxxx numbers.
 */
export function demoScenario(botBaseUrl = 'http://127.0.0.1:3000'): SeedScenario {
  const ext = (n: number) => `wmSandboxDemoCustomer${String(n).padStart(11, '0')}`;
  return {
    mode: 'replace',
    corps: [
      {
        corpId: DEMO_CORP_ID,
        name: '星途汽车城南4S店（演示）',
        agentId: 1000002,
        secret: DEMO_SECRET,
        callback: { ...DEMO_CALLBACK, url: `${botBaseUrl}/wecom/callback/${DEMO_CORP_ID}` },
        contactSync: { ...DEMO_CONTACT_SYNC, url: `${botBaseUrl}/wecom/contact-sync/${DEMO_CORP_ID}` },
        departments: [
          { id: 1, name: '星途汽车城南4S店', parentid: 0, order: 100 },
          { id: 2, name: '销售部', parentid: 1, order: 90 },
          { id: 3, name: '售后服务部', parentid: 1, order: 80 },
        ],
        members: [
          { userid: 'wangqiang', name: '王强', department: [2], isLeaderInDept: [1], position: '销售经理' },
          { userid: 'zhangwei', name: '张伟', department: [2], directLeader: ['wangqiang'], position: '销售顾问' },
          { userid: 'lina', name: '李娜', department: [2], directLeader: ['wangqiang'], position: '销售顾问' },
          { userid: 'liuyang', name: '刘洋', department: [2], directLeader: ['wangqiang'], position: '销售顾问' },
          { userid: 'chenjing', name: '陈静', department: [3], position: '服务顾问' },
        ],
        tagGroups: [
          { group_name: '客户阶段', order: 100, tags: [{ name: '潜客' }, { name: '意向' }, { name: '已购车' }] },
          // The bot's default owner tag (retention settings): one 保客, in the group the bot tags.
          { group_name: '客户分层', order: 95, tags: [{ name: '保客' }] },
          { group_name: '意向车型', order: 90, tags: [{ name: '星途SUV' }, { name: '星途轿车' }, { name: '新能源' }] },
          { group_name: '管理员标签', order: 10, createdByApp: false, tags: [{ name: 'VIP' }] },
        ],
        customers: [
          {
            external_userid: ext(1),
            name: '赵先生',
            gender: 1,
            follows: [
              {
                userid: 'zhangwei',
                remark: '赵先生-星途SUV',
                remark_mobiles: ['13800000101'],
                state: 'showroom_qr',
                tags: ['意向', '星途SUV'],
              },
            ],
          },
          {
            external_userid: ext(2),
            name: '钱女士',
            gender: 2,
            follows: [
              {
                userid: 'zhangwei',
                remark: '钱女士',
                remark_mobiles: ['13800000102'],
                state: 'delivery_2024',
                tags: ['已购车', '保客'],
              },
            ],
          },
          {
            external_userid: ext(3),
            name: '孙磊',
            gender: 1,
            follows: [{ userid: 'lina', remark_mobiles: ['13800000103'], state: 'autoshow_qr', tags: ['潜客'] }],
          },
          {
            external_userid: ext(4),
            name: '周婷',
            gender: 2,
            follows: [
              { userid: 'lina', remark: '周婷-新能源', tags: ['意向', '新能源'] },
              { userid: 'chenjing', remark: '周婷' },
            ],
          },
          {
            external_userid: ext(5),
            name: '吴浩然',
            gender: 1,
            follows: [{ userid: 'liuyang', remark_mobiles: ['13800000105'], tags: ['已购车', '保客', 'VIP'] }],
          },
          {
            external_userid: ext(6),
            name: '郑晓雨',
            gender: 2,
            type: 1,
            follows: [{ userid: 'liuyang', state: 'douyin_lead' }],
          },
        ],
      },
    ],
  };
}
