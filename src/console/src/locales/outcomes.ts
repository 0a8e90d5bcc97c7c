/**
 * Strings of the result tiles in the cockpit and of the campaign effectiveness page
 * (docs/outcomes.md "KPIs" and "Holdout and uplift"). The hover definitions say what
 * src/domain/outcomes/outcome-kpis.ts counts.
 */
export const outcomes = {
  'zh-CN': {
    outcomes: {
      title: '经营结果（DMS）',
      pickCorp: '选择一家经销商查看其经营结果',
      level: '查看层级',
      levels: { advisor: '顾问', department: '部门', dealer: '经销商', carMaker: '主机厂' },
      myDepartments: '我的全部部门',
      dealer: '经销商',
      loadError: '经营结果加载失败：{message}',
      asOfRange: '截至 {to}',
      tiles: {
        returnRate: {
          label: '回厂率',
          definition: '截至范围结束前 12 个月内至少有一张维修工单的车主 ÷ 车主（已关联客户的车辆）',
        },
        firstMaintenanceRate: {
          label: '首保到店率',
          definition: '范围结束前 3–15 个月交付、且已有首保工单的车辆 ÷ 这些车辆',
        },
        renewalRate: {
          label: '续保率',
          definition: '保单在范围内到期、且已有更晚保单的车辆 ÷ 保单在范围内到期的车辆',
        },
        bookedArrivedRate: {
          label: '预约到店率',
          definition: '范围内完成为“已预约”的任务中，爽约窗口内有维修工单的 ÷ 爽约窗口已结束的预约',
        },
        noShows: {
          label: '预约未到店',
          definition: '范围内的预约在爽约窗口内没有到店（每条生成一个回访任务），按顾问统计',
        },
        connectableRate: {
          label: '可连接率',
          definition: '车主与本店有有效企业微信关系的 DMS 车辆 ÷ 全部 DMS 车辆',
        },
        dormantOwners: {
          label: '休眠车主',
          definition: '最近一次维修工单（没有工单则为交付日）早于休眠阈值（默认 12 个月）的车主',
        },
        attributedRevenue: {
          label: '归因收入',
          definition: '范围内归因到某次触达（最后触达）的结果收入；窗口内无触达的为自然收入',
        },
      },
      ofVehicles: '{n} / {total} 辆',
      owners: '车主 {n} 位',
      organic: '自然收入 {amount}',
      byAdvisor: '按顾问：{list}',
      unreachable: '查看无法联系的车主',
      unreachableTitle: '无法联系的车主（{total}）',
      vin: '车架号',
      salesAdvisor: '销售顾问',
      linked: '已关联客户',
      linkedYes: '已关联，无有效好友关系',
      linkedNo: '未关联客户',
      more: '仅显示前 {shown} 条，共 {total} 条',
      funnel: '结果漏斗',
      funnelBy: '漏斗维度',
      funnelUnits: { rule: '规则', advisor: '顾问', dealer: '经销商' },
      dealerTotal: '全店合计',
      manual: '手动任务',
      touched: '触达',
      booked: '预约',
      arrived: '到店',
      revenue: '收入',
      report: '效果报告',
      noFunnel: '该范围内没有触达',
      campaign: {
        title: '活动效果：{name}',
        back: '返回活动列表',
        window: '结果窗口',
        days: '{n} 天',
        group: '组别',
        treated: '触达组',
        heldOut: '对照组（留出）',
        customers: '客户数',
        outcomeRate: '窗口内结果率',
        interval: '95% 区间',
        revenuePerCustomer: '人均收入',
        uplift: '提升',
        upliftLine: '提升 {difference}（95% 区间 {low} 至 {high}）',
        verdicts: {
          uplift: '显著提升',
          harm: '显著下降',
          not_significant: '尚不显著：区间包含 0，差异可能只是偶然',
          no_control_group: '没有对照组：请在规则中设置留出比例',
        },
        method: 'Wilson 区间（结果率）与 Newcombe 混合区间（提升），见 docs/outcomes.md',
        pickCorp: '选择经销商',
        notFound: '找不到该活动',
      },
    },
  },
  en: {
    outcomes: {
      title: 'Results (DMS)',
      pickCorp: 'Pick one dealer to see its results',
      level: 'Level',
      levels: { advisor: 'Advisor', department: 'Department', dealer: 'Dealer', carMaker: 'Car maker' },
      myDepartments: 'All my departments',
      dealer: 'Dealer',
      loadError: 'Could not load the results: {message}',
      asOfRange: 'as of {to}',
      tiles: {
        returnRate: {
          label: 'Return rate',
          definition:
            'Owners (vehicles linked to a customer) with at least one repair order in the 12 months before the end of the range ÷ owners',
        },
        firstMaintenanceRate: {
          label: 'First-maintenance arrival',
          definition:
            'Vehicles delivered 3–15 months before the end of the range that have a first-maintenance repair order ÷ those vehicles',
        },
        renewalRate: {
          label: 'Renewal rate',
          definition:
            'Vehicles whose policy ended in the range and that have a later policy ÷ vehicles whose policy ended in the range',
        },
        bookedArrivedRate: {
          label: 'Booked → arrived',
          definition:
            '"Appointment booked" tasks of the range followed by a repair order within the no-show window ÷ those whose window has closed',
        },
        noShows: {
          label: 'No-shows',
          definition:
            'Bookings of the range without an arrival within the no-show window (each gets a follow-up task), per advisor',
        },
        connectableRate: {
          label: 'Connectable rate',
          definition: 'DMS vehicles whose owner has an active WeCom relationship with the dealer ÷ all DMS vehicles',
        },
        dormantOwners: {
          label: 'Dormant owners',
          definition:
            "Owners whose last repair order (or delivery, without one) is older than the corp's dormant threshold (12 months unless changed)",
        },
        attributedRevenue: {
          label: 'Attributed revenue',
          definition:
            'Revenue of outcomes in the range credited to a touch (last touch); organic = no touch in the window',
        },
      },
      ofVehicles: '{n} of {total} vehicles',
      owners: '{n} owners',
      organic: 'organic {amount}',
      byAdvisor: 'by advisor: {list}',
      unreachable: 'List the unreachable owners',
      unreachableTitle: 'Unreachable owners ({total})',
      vin: 'VIN',
      salesAdvisor: 'Sales advisor',
      linked: 'Linked customer',
      linkedYes: 'linked, no active relationship',
      linkedNo: 'no customer linked',
      more: 'showing the first {shown} of {total}',
      funnel: 'Outcome funnel',
      funnelBy: 'Funnel by',
      funnelUnits: { rule: 'Rule', advisor: 'Advisor', dealer: 'Dealer' },
      dealerTotal: 'Dealer total',
      manual: 'Manual tasks',
      touched: 'Touched',
      booked: 'Booked',
      arrived: 'Arrived',
      revenue: 'Revenue',
      report: 'Effectiveness',
      noFunnel: 'No touches in this range',
      campaign: {
        title: 'Campaign effectiveness: {name}',
        back: 'Back to campaigns',
        window: 'Outcome window',
        days: '{n} days',
        group: 'Group',
        treated: 'Treated',
        heldOut: 'Held out (control)',
        customers: 'Customers',
        outcomeRate: 'Outcome rate in the window',
        interval: '95% interval',
        revenuePerCustomer: 'Revenue per customer',
        uplift: 'Uplift',
        upliftLine: 'Uplift {difference} (95% interval {low} to {high})',
        verdicts: {
          uplift: 'Significant uplift',
          harm: 'Significant harm',
          not_significant: 'Not yet significant: the interval contains 0, the difference may be chance',
          no_control_group: 'No control group: set a holdout share on the rule',
        },
        method: 'Wilson intervals (rates) and Newcombe hybrid interval (uplift), see docs/outcomes.md',
        pickCorp: 'Dealer',
        notFound: 'Campaign not found',
      },
    },
  },
} as const;
