/** Strings of the customer transfer page. */
export const transfers = {
  'zh-CN': {
    transfers: {
      title: '客户转接', corp: '企业', handover: '原跟进顾问', handoverHint: '离职或客户过多的顾问', kind: '转接方式', kinds: { in_service: '在职继承', resigned: '离职继承' },
      customers: '选择要转接的客户', noCustomers: '该顾问没有可转接的客户', pickHandover: '先选择原跟进顾问，再勾选客户', loadError: '客户列表加载失败：{message}',
      takeover: '接手顾问', message: '转接成功后发给客户的消息（可选）', messageHint: '最多 200 字，仅在职继承可用',
      start: '发起转接', selected: '已选 {n} 位客户', problems: { customers: '请至少勾选一位客户', takeover: '请选择接手顾问', corp: '请先选择企业' },
      results: '转接结果', starting: '已提交，等待企业微信受理…', polling: '已发起：客户将在 24 小时后自动接替（客户可拒绝），结果会自动刷新', finished: '转接已结束', stillWaiting: '仍在等待企业微信的结果，可稍后刷新查看', refresh: '刷新',
      columns: { customer: '客户', result: '结果', explanation: '说明' },
      result: { failed_to_start: '未能发起', waiting: '等待接替', succeeded: '已接替', refused: '客户拒绝', taker_full: '接手顾问客户已满', expired: '已过期' },
      startError: '发起失败：{message}', again: '再转接一批', columnsName: '客户', unnamed: '（无名称）',
    },
  },
  en: {
    transfers: {
      title: 'Customer transfers', corp: 'Corp', handover: 'Current advisor', handoverHint: 'The advisor who leaves or has too many customers', kind: 'Transfer type', kinds: { in_service: 'In service', resigned: 'Resigned (left)' },
      customers: 'Customers to transfer', noCustomers: 'This advisor has no customers to transfer', pickHandover: 'Pick the current advisor, then tick customers', loadError: 'The customers could not be loaded: {message}',
      takeover: 'Taking over', message: 'Message to the customer after the transfer (optional)', messageHint: 'At most 200 characters; in-service transfers only',
      start: 'Start transfer', selected: '{n} customer(s) selected', problems: { customers: 'Tick at least one customer', takeover: 'Pick who takes over', corp: 'Pick a corp first' },
      results: 'Results', starting: 'Submitted; waiting for WeCom to accept it…', polling: 'Started: customers are taken over after 24 hours unless they refuse; results refresh by themselves', finished: 'The transfer is finished', stillWaiting: 'Still waiting for WeCom; refresh later', refresh: 'Refresh',
      columns: { customer: 'Customer', result: 'Result', explanation: 'Details' },
      result: { failed_to_start: 'Not started', waiting: 'Waiting for takeover', succeeded: 'Taken over', refused: 'Refused by the customer', taker_full: 'Taker has too many customers', expired: 'Expired' },
      startError: 'The transfer could not be started: {message}', again: 'Transfer another batch', columnsName: 'Customer', unnamed: '(no name)',
    },
  },
} as const;
