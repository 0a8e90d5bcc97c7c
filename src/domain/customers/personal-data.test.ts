import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { customerCtx, PersonalData, relationshipCtx, storedFieldCtx } from './personal-data.js';

const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
const alpha = { corpId: 'wwDemo', externalUserId: 'wmAlpha' };
const beta = { corpId: 'wwDemo', externalUserId: 'wmBeta' };

describe('PersonalData contexts (docs/security.md "Data at rest and in transit")', () => {
  it('seals as v2 bound to the natural key and field', () => {
    const sealed = pd.sealFor(customerCtx(alpha, 'nameEnc'), '测试客户甲') ?? '';
    expect(sealed.startsWith('v2.k1.')).toBe(true);
    expect(sealed).not.toContain('测试客户甲');
    expect(pd.openFor(customerCtx(alpha, 'nameEnc'), sealed)).toBe('测试客户甲');
    expect(cipher.decrypt(sealed, 'customers/nameEnc/wwDemo:wmAlpha')).toBe('测试客户甲');
    expect(
      pd
        .sealSearchableFor(relationshipCtx({ ...alpha, userid: 'lina' }, 'remarkEnc'), 'remark', '甲先生')
        .enc?.startsWith('v2.k1.'),
    ).toBe(true);
    expect(pd.sealFor(customerCtx(alpha, 'nameEnc'), '')).toBeUndefined();
  });

  it('refuses a value opened as another customer, another field or another advisor relationship', () => {
    const name = pd.sealFor(customerCtx(alpha, 'nameEnc'), '测试客户甲');
    expect(() => pd.openFor(customerCtx(beta, 'nameEnc'), name)).toThrow(/failed authentication/);
    expect(() => pd.openFor(customerCtx(alpha, 'dmsNotesEnc'), name)).toThrow(/failed authentication/);
    expect(() => pd.openFor(relationshipCtx({ ...alpha, userid: 'lina' }, 'remarkEnc'), name)).toThrow(
      /failed authentication/,
    );
    const remark = pd.sealFor(relationshipCtx({ ...alpha, userid: 'lina' }, 'remarkEnc'), '甲先生');
    expect(() => pd.openFor(relationshipCtx({ ...alpha, userid: 'zhangwei' }, 'remarkEnc'), remark)).toThrow(
      /failed authentication/,
    );
    expect(() => cipher.decrypt(remark ?? '')).toThrow(/needs the context/);
  });

  it('keeps ids with separators apart', () => {
    const a = customerCtx({ corpId: 'ww:a', externalUserId: 'b' }, 'nameEnc');
    const b = customerCtx({ corpId: 'ww', externalUserId: 'a:b' }, 'nameEnc');
    expect(a).not.toBe(b);
  });

  it('still opens v1 values (no context) in their place', () => {
    const legacy = cipher.encrypt('测试客户甲');
    expect(legacy.startsWith('v1.')).toBe(true);
    expect(pd.openFor(customerCtx(alpha, 'nameEnc'), legacy)).toBe('测试客户甲');
  });

  it('derives the context of a stored document for rotation and export', () => {
    expect(storedFieldCtx('customers', { ...alpha }, 'birthdayEnc')).toBe(customerCtx(alpha, 'birthdayEnc'));
    expect(storedFieldCtx('relationships', { ...alpha, userid: 'lina' }, 'remarkMobilesEnc')).toBe(
      relationshipCtx({ ...alpha, userid: 'lina' }, 'remarkMobilesEnc'),
    );
    expect(storedFieldCtx('vehicles', { ...alpha }, 'xEnc')).toBeUndefined();
  });
});
