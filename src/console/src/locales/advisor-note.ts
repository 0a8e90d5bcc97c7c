/** Strings of the advisor's note on the phone task page (docs/console.md, "Advisor sidebar"). */
export const advisorNote = {
  'zh-CN': {
    note: {
      title: '我的备注',
      othersTitle: '跟进顾问的备注',
      placeholder: '只记录跟进需要的信息（例如方便联系的时间）',
      save: '保存备注',
      saved: '备注已保存',
      empty: '暂无备注',
    },
  },
  en: {
    note: {
      title: 'My note',
      othersTitle: "The advisor's note",
      placeholder: 'Only what the follow-up needs (for example when to call)',
      save: 'Save note',
      saved: 'Note saved',
      empty: 'No note yet',
    },
  },
};
