/** Strings of the manager cockpit (docs/cockpit.md). Metric names and definitions come from the API. */
export const cockpit = {
  'zh-CN': {
    cockpit: {
      title: '管理驾驶舱',
      range: '日期范围', start: '开始日期', end: '结束日期', granularity: '粒度', groupBy: '排名维度', corp: '经销商', department: '部门',
      allCorps: '全部经销商', allDepartments: '全部部门',
      granularities: { day: '按日', week: '按周', month: '按月' },
      units: { corp: '经销商', department: '部门', advisor: '顾问' },
      exportCsv: '导出 CSV', retry: '重试', loadError: '加载失败：{message}', empty: '所选范围内暂无数据',
      definition: '{label} 的定义', ranking: '排名', unit: '名称', flags: '异常', noFlags: '—', anomaly: '异常',
      drill: '查看趋势', drillTitle: '{unit} · {metric}', metric: '指标', closeDrill: '关闭',
      openTasks: '查看背后的任务', openCustomers: '查看背后的客户', trend: '{metric} 趋势', noSeries: '该范围内没有数据',
    },
  },
  en: {
    cockpit: {
      title: 'Manager cockpit',
      range: 'Date range', start: 'Start date', end: 'End date', granularity: 'Granularity', groupBy: 'Rank by', corp: 'Dealer', department: 'Department',
      allCorps: 'All dealers', allDepartments: 'All departments',
      granularities: { day: 'Daily', week: 'Weekly', month: 'Monthly' },
      units: { corp: 'Dealer', department: 'Department', advisor: 'Advisor' },
      exportCsv: 'Export CSV', retry: 'Retry', loadError: 'Could not load: {message}', empty: 'No data in this range',
      definition: 'Definition of {label}', ranking: 'Ranking', unit: 'Name', flags: 'Anomalies', noFlags: '—', anomaly: 'Anomaly',
      drill: 'Trend', drillTitle: '{unit} · {metric}', metric: 'Metric', closeDrill: 'Close',
      openTasks: 'Open the tasks behind it', openCustomers: 'Open the customers behind it', trend: '{metric} trend', noSeries: 'No data in this range',
    },
  },
} as const;
