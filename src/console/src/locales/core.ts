/** Strings of the shell, sign-in, campaigns list and mobile tasks. */
export const core = {
  'zh-CN': {
    app: { title: '保客营销控制台', signOut: '退出登录', language: 'English' },
    signIn: {
      title: '登录', corp: '选择企业', wecom: '企业微信登录', token: 'API 令牌', tokenHint: '首次使用：管理员可用引导令牌或 API 令牌登录', useToken: '使用令牌登录',
      errors: { state: '登录已过期，请重试', not_member: '你不是该企业的成员', unknown_corp: '未知的企业', invalid_token: '令牌无效或已撤销', unavailable: '服务暂时不可用，请稍后再试', no_role: '你在主机厂企业中还没有控制台角色，请联系管理员' },
    },
    nav: { campaigns: '营销活动', tasks: '我的任务' },
    campaigns: { name: '名称', scope: '范围', enabled: '启用', version: '版本', updated: '更新时间', empty: '暂无活动' },
    tasks: {
      title: '我的任务', empty: '暂无待办任务', due: '截止', overdue: '已逾期', back: '返回', done: '已完成', snooze: '明天再说', unreachable: '联系不上',
      status: { open: '待办', done: '已完成', unreachable: '联系不上', cancelled: '已取消' }, saved: '已更新',
      customer: '客户', name: '微信名', remark: '备注', vehicle: '车型', talkTrack: '话术', outcomeTitle: '完成并记录结果', openChat: '打开与客户的聊天', openChatOutsideWecom: '请在企业微信中打开本页，才能直接进入与客户的聊天',
      outcomes: { contacted: '已联系', appointment_booked: '已预约到店', customer_declined: '客户婉拒' }, result: '结果',
    },
  },
  en: {
    app: { title: 'Retention console', signOut: 'Sign out', language: '中文' },
    signIn: {
      title: 'Sign in', corp: 'Choose a corp', wecom: 'Sign in with WeCom', token: 'API token', tokenHint: 'First run: admins sign in with the bootstrap or an API token', useToken: 'Sign in with token',
      errors: { state: 'The sign-in expired; try again', not_member: 'You are not a member of this corp', unknown_corp: 'Unknown corp', invalid_token: 'The token is unknown or revoked', unavailable: 'The service is unavailable; try again shortly', no_role: 'You have no console role in the car maker\'s corp; ask an admin' },
    },
    nav: { campaigns: 'Campaigns', tasks: 'My tasks' },
    campaigns: { name: 'Name', scope: 'Scope', enabled: 'Enabled', version: 'Version', updated: 'Updated', empty: 'No campaigns yet' },
    tasks: {
      title: 'My tasks', empty: 'Nothing to follow up', due: 'Due', overdue: 'Overdue', back: 'Back', done: 'Done', snooze: 'Tomorrow', unreachable: 'Unreachable',
      status: { open: 'Open', done: 'Done', unreachable: 'Unreachable', cancelled: 'Cancelled' }, saved: 'Updated',
      customer: 'Customer', name: 'WeCom name', remark: 'Remark', vehicle: 'Vehicle', talkTrack: 'Talk track', outcomeTitle: 'Done — record the outcome', openChat: 'Open the chat with the customer', openChatOutsideWecom: 'Open this page in WeCom to go straight to the chat with the customer',
      outcomes: { contacted: 'Contacted', appointment_booked: 'Appointment booked', customer_declined: 'Customer declined' }, result: 'Outcome',
    },
  },
} as const;
