import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { chooseResponsibleAdvisor, customerSnapshot, diffTags, relationshipSnapshot } from './contact-snapshot.js';
import { customerCtx, PersonalData } from './personal-data.js';

const pd = new PersonalData(
  new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
  new LookupHasher(randomBytes(32)),
);

describe('contact snapshots', () => {
  it('seals identifiers and keeps only corp tag ids', () => {
    const customer = customerSnapshot(
      { external_userid: 'wmA', name: '测试客户甲', type: 1, gender: 1, unionid: 'oU-demo' },
      pd,
      'wwCorpDemo',
    );
    expect(JSON.stringify(customer)).not.toContain('测试客户甲');
    expect(pd.openFor(customerCtx({ corpId: 'wwCorpDemo', externalUserId: 'wmA' }, 'nameEnc'), customer.nameEnc)).toBe(
      '测试客户甲',
    );
    expect(customer.nameHash).toBe(pd.hash('name', '测试客户甲'));

    const rel = relationshipSnapshot(
      {
        userid: 'zhangwei',
        remark: '甲先生',
        description: '',
        createtime: 1735700000,
        add_way: 1,
        oper_userid: 'wmA',
        state: 'delivery_qr1',
        remark_mobiles: ['13800000001', '13800000001', ''],
        tags: [
          { group_name: '客户分层', tag_name: '保客', tag_id: 'etB', type: 1 },
          { group_name: '个人', tag_name: '爱钓鱼', type: 2 },
          { group_name: 'x', tag_name: 'a', tag_id: 'etA', type: 3 },
        ],
      },
      pd,
      { corpId: 'wwCorpDemo', externalUserId: 'wmA' },
    );
    expect(rel).toMatchObject({
      userid: 'zhangwei',
      state: 'delivery_qr1',
      addWay: 1,
      tagIds: ['etA', 'etB'],
      addedAt: new Date(1735700000 * 1000),
    });
    expect(rel.remarkMobileHashes).toEqual([pd.hash('mobile', '13800000001')]);
    expect(rel.descriptionEnc).toBeUndefined();
    expect(JSON.stringify(rel)).not.toContain('13800000001');
  });

  it('reads batch/get_by_user follow_info with tag_id[]', () => {
    const rel = relationshipSnapshot(
      {
        userid: 'lina',
        remark: '',
        description: '',
        createtime: 1,
        add_way: 16,
        oper_userid: 'x',
        remark_mobiles: [],
        tag_id: ['et2', 'et1'],
      },
      pd,
      { corpId: 'wwCorpDemo', externalUserId: 'wmA' },
    );
    expect(rel.tagIds).toEqual(['et1', 'et2']);
    expect(rel.remarkEnc).toBeUndefined();
  });

  it('diffs tags', () => {
    expect(diffTags(['a', 'b'], ['b', 'c', 'd'])).toEqual({ added: ['c', 'd'], removed: ['a'] });
    expect(diffTags(['a'], ['a'])).toEqual({ added: [], removed: [] });
  });

  it('picks the responsible advisor by the docs/architecture.md §4 rule', () => {
    const rels = [
      { userid: 'old', status: 'active', addedAt: new Date(1000) },
      { userid: 'new', status: 'active', addedAt: new Date(5000) },
      { userid: 'gone', status: 'deleted_by_customer', addedAt: new Date(9000) },
    ];
    expect(chooseResponsibleAdvisor(rels)).toBe('new');
    expect(chooseResponsibleAdvisor(rels, ['old'])).toBe('old');
    expect(chooseResponsibleAdvisor(rels, ['gone'])).toBe('new'); // a seller the customer deleted cannot follow up
    expect(chooseResponsibleAdvisor([{ userid: 'x', status: 'transferred' }])).toBeUndefined();
  });
});
