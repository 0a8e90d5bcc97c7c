import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { ApiTokenModel } from '../../domain/auth/api-token.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CorpModel } from '../../domain/corps/corp.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { customerCtx } from '../../domain/customers/personal-data.js';
import { BOOTSTRAP, CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('admin-api');
const as = bearer;

describe('corps API', () => {
  it('lets admins add and change corps; secrets are write-only and the audit names fields, not values', async () => {
    const admin = await h.token('admin');
    const input = {
      corpId: 'wwdealerC0003',
      displayName: '城东店',
      agentId: 1000003,
      secret: 'super-secret-value',
      callbackToken: 'Tok3',
      callbackAesKey: 'c'.repeat(43),
    };
    const created = await request(h.app.callback()).post('/api/v1/corps').set(as(admin)).send(input).expect(201);
    expect(created.body).toMatchObject({ corpId: 'wwdealerC0003', displayName: '城东店' });
    expect(JSON.stringify(created.body)).not.toContain('super-secret-value');
    await request(h.app.callback()).post('/api/v1/corps').set(as(admin)).send(input).expect(409);
    const patched = await request(h.app.callback())
      .patch('/api/v1/corps/wwdealerC0003')
      .set(as(admin))
      .send({ secret: 'rotated-secret', timezone: 'Asia/Urumqi' })
      .expect(200);
    expect(patched.body).toMatchObject({ timezone: 'Asia/Urumqi' });
    const stored = await CorpModel.findOne({ corpId: 'wwdealerC0003' }).lean();
    expect(stored?.secretSealed).not.toContain('rotated-secret');
    const listed = await request(h.app.callback()).get('/api/v1/corps').set(as(admin)).expect(200);
    expect(JSON.stringify(listed.body)).not.toMatch(/secret-value|rotated-secret|Sealed/);
    const audit = await AuditEntryModel.find({ 'target.type': 'corp' }).lean();
    expect(audit.map((a) => a.action).sort()).toEqual(['corp.create', 'corp.update']);
    expect(JSON.stringify(audit)).not.toContain('rotated-secret');
  });

  it('refuses every non-admin role', async () => {
    for (const role of ['oem', 'dealer_admin', 'marketing', 'integration'] as const) {
      const t = await h.token(role, role === 'oem' ? [] : [CORP_A]);
      await request(h.app.callback()).get('/api/v1/corps').set(as(t)).expect(403);
      await request(h.app.callback())
        .patch(`/api/v1/corps/${CORP_A}`)
        .set(as(t))
        .send({ displayName: 'x' })
        .expect(403);
    }
  });
});

describe('vehicles and customers routes', () => {
  it("scope writes to the principal's corps: corp B's token cannot write corp A's vehicles or customers", async () => {
    const integrationB = await h.token('integration', [CORP_B]);
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    const marketingA = await h.token('marketing', [CORP_A]);
    const vehicle = { corpId: CORP_A, vin: 'LSVAB2180E2000009', model: '星越L' };
    await request(h.app.callback()).post('/api/v1/vehicles').set(as(integrationB)).send(vehicle).expect(403);
    await request(h.app.callback()).post('/api/v1/vehicles').set(as(marketingA)).send(vehicle).expect(403);
    await request(h.app.callback()).post('/api/v1/vehicles').set(as(dealerA)).send(vehicle).expect(200);
    const customer = await CustomerModel.create({ corpId: CORP_A, externalUserId: 'wmScope1' });
    await request(h.app.callback())
      .patch(`/api/v1/customers/${String(customer._id)}/attributes`)
      .set(as(integrationB))
      .send({ birthday: '1985-07-14' })
      .expect(404);
    await request(h.app.callback())
      .patch(`/api/v1/customers/${String(customer._id)}/attributes`)
      .set(as(dealerA))
      .send({ birthday: '1985-07-14' })
      .expect(200);
    const audit = await AuditEntryModel.find({
      action: { $in: ['vehicle.upsert', 'customer.update_attributes'] },
    }).lean();
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain('1985-07-14');
    // Sealed as v2, bound to this customer and field (docs/security.md "Data at rest and in transit").
    const stored = await CustomerModel.findById(customer._id).lean();
    expect(stored?.birthdayEnc?.startsWith('v2.')).toBe(true);
    expect(
      h.pd.openFor(customerCtx({ corpId: CORP_A, externalUserId: 'wmScope1' }, 'birthdayEnc'), stored?.birthdayEnc),
    ).toBe('1985-07-14');
    expect(() =>
      h.pd.openFor(customerCtx({ corpId: CORP_A, externalUserId: 'wmScope1' }, 'dmsNotesEnc'), stored?.birthdayEnc),
    ).toThrow(/failed authentication/);
  });
});

describe('tokens, audit and the OpenAPI document', () => {
  it('stores only a hash, resolves manager departments from the directory, and stops a revoked token', async () => {
    await AdvisorModel.create({ corpId: CORP_A, userid: 'wangqiang', leadsDepartments: [2] });
    const created = await h.tokens.create({ role: 'manager', corps: [CORP_A], userid: 'wangqiang' });
    const stored = await ApiTokenModel.findOne({ tokenId: created.tokenId }).lean();
    expect(JSON.stringify(stored)).not.toContain(created.token);
    expect(await h.tokens.resolve(created.token)).toEqual({
      role: 'manager',
      corps: [CORP_A],
      userid: 'wangqiang',
      departments: [2],
      tokenId: created.tokenId,
    });
    await request(h.app.callback()).get('/api/v1/rules').set(as(created.token)).expect(200);
    await h.tokens.revoke(created.tokenId);
    await request(h.app.callback()).get('/api/v1/rules').set(as(created.token)).expect(401);
    await expect(h.tokens.create({ role: 'manager', corps: [CORP_A] })).rejects.toThrow('some fields are invalid');
  });

  it('serves the audit log to admins only', async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    await request(h.app.callback()).get('/api/v1/audit').set(as(marketing)).expect(403);
    const res = await request(h.app.callback()).get('/api/v1/audit?limit=1').set(as(BOOTSTRAP)).expect(200);
    expect(res.body.entries.length).toBeLessThanOrEqual(1);
    await request(h.app.callback()).get('/api/v1/audit?limit=5000').set(as(BOOTSTRAP)).expect(422);
  });

  it('publishes an OpenAPI 3.1 document generated from the schemas', async () => {
    const res = await request(h.app.callback()).get('/api/v1/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    const post = res.body.paths['/rules'].post;
    expect(post['x-roles']).toEqual(['admin', 'oem', 'marketing']);
    expect(JSON.stringify(post.requestBody)).toContain('customer.tag_added');
  });
});
