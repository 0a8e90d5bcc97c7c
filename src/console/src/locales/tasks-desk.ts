/** Strings of the desktop tasks page (filters, table, detail drawer, reassignment). */
export const tasksDesk = {
  'zh-CN': {
    tasksDesk: {
      title: '任务',
      filters: {
        label: '筛选', corp: '企业', department: '部门', departmentN: '部门 {id}', advisor: '顾问', status: '状态', overdue: '只看逾期', rule: '活动规则',
        from: '截止从', to: '截止到', any: '全部', apply: '筛选', reset: '清除',
      },
      columns: { customer: '客户', vehicle: '车辆', rule: '原因', title: '任务', advisor: '顾问', due: '截止', sla: 'SLA', status: '状态', actions: '操作' },
      sla: { onTime: '按时', dueSoon: '即将到期', overdue: '已逾期', escalated: '已升级 L{level}', doneOnTime: '按时完成', doneLate: '逾期完成', closed: '已关闭' },
      status: { open: '待办', done: '已完成', unreachable: '联系不上', cancelled: '已取消' },
      noCustomer: '（未知客户）', details: '详情', loadMore: '加载更多', exportCsv: '导出 CSV', empty: '没有符合条件的任务', error: '任务加载失败：{message}', retry: '重试',
      selected: '已选 {n} 条',
      detail: {
        title: '任务详情', talkTrack: '话术', due: '截止', advisor: '顾问', customer: '客户', vehicle: '车型', history: '历史记录', reassign: '改派给', reassignButton: '改派',
        loadError: '任务详情加载失败：{message}', noHistory: '暂无记录',
      },
      actors: { system: '系统', api: '{who}（控制台）', wecom: '{who}（企业微信）', advisor: '{who}（顾问）' },
      actions: {
        created: '创建任务', card_sent: '发送任务卡片', digest_sent: '发送任务汇总', completed: '完成（{outcome}）', snoozed: '延后提醒 {days} 天', unreachable: '标记为联系不上', cancelled: '取消（{reason}）',
        reassigned: '由 {from} 改派给 {to}', transferred: '随客户转接给 {to}', reminded: '提醒顾问', reminded_undeliverable: '提醒未送达（顾问已无法接收消息）', escalated: '升级给主管', flagged: '标记超时', card_undeliverable: '顾问已无法接收消息（已离职？），等待转接',
      },
      outcomes: { contacted: '已联系', appointment_booked: '已预约到店', customer_declined: '客户婉拒' },
      bulk: {
        open: '批量改派', title: '批量改派', from: '原顾问', to: '接手顾问', scope: '范围', selected: '选中的 {n} 条任务', all: '{advisor} 的全部待办任务',
        hint: '顾问离职或任务过多时使用：每条任务的历史都会记录改派。', submit: '改派', done: '已改派 {n} 条任务', none: '没有可改派的待办任务',
        pickFrom: '请先选择原顾问', pickTo: '请选择接手顾问', cancel: '取消',
      },
      reassigned: '已改派',
    },
  },
  en: {
    tasksDesk: {
      title: 'Tasks',
      filters: {
        label: 'Filters', corp: 'Corp', department: 'Department', departmentN: 'Department {id}', advisor: 'Advisor', status: 'Status', overdue: 'Overdue only', rule: 'Rule',
        from: 'Due from', to: 'Due to', any: 'Any', apply: 'Filter', reset: 'Clear',
      },
      columns: { customer: 'Customer', vehicle: 'Vehicle', rule: 'Why', title: 'Task', advisor: 'Advisor', due: 'Due', sla: 'SLA', status: 'Status', actions: 'Actions' },
      sla: { onTime: 'On time', dueSoon: 'Due soon', overdue: 'Overdue', escalated: 'Escalated L{level}', doneOnTime: 'Done on time', doneLate: 'Done late', closed: 'Closed' },
      status: { open: 'Open', done: 'Done', unreachable: 'Unreachable', cancelled: 'Cancelled' },
      noCustomer: '(unknown customer)', details: 'Details', loadMore: 'Load more', exportCsv: 'Export CSV', empty: 'No tasks match these filters', error: 'Tasks could not be loaded: {message}', retry: 'Retry',
      selected: '{n} selected',
      detail: {
        title: 'Task', talkTrack: 'Talk track', due: 'Due', advisor: 'Advisor', customer: 'Customer', vehicle: 'Model', history: 'History', reassign: 'Reassign to', reassignButton: 'Reassign',
        loadError: 'The task could not be loaded: {message}', noHistory: 'No history yet',
      },
      actors: { system: 'System', api: '{who} (console)', wecom: '{who} (WeCom)', advisor: '{who} (advisor)' },
      actions: {
        created: 'Task created', card_sent: 'Task card sent', digest_sent: 'Digest sent', completed: 'Completed ({outcome})', snoozed: 'Snoozed {days} day(s)', unreachable: 'Marked unreachable', cancelled: 'Cancelled ({reason})',
        reassigned: 'Reassigned from {from} to {to}', transferred: 'Moved to {to} with the customer', reminded: 'Advisor reminded', reminded_undeliverable: 'Reminder undeliverable (the advisor can no longer receive messages)', escalated: 'Escalated to the manager', flagged: 'Flagged overdue', card_undeliverable: 'The advisor can no longer receive messages (left?); awaiting a transfer',
      },
      outcomes: { contacted: 'Contacted', appointment_booked: 'Appointment booked', customer_declined: 'Customer declined' },
      bulk: {
        open: 'Bulk reassign', title: 'Bulk reassign', from: 'From advisor', to: 'To advisor', scope: 'Which tasks', selected: 'The {n} selected tasks', all: 'All open tasks of {advisor}',
        hint: 'For an advisor who leaves or is overloaded: every task records the reassignment in its history.', submit: 'Reassign', done: '{n} task(s) reassigned', none: 'No open tasks to reassign',
        pickFrom: 'Pick the advisor first', pickTo: 'Pick who takes over', cancel: 'Cancel',
      },
      reassigned: 'Reassigned',
    },
  },
} as const;
