import { parseArgs } from 'node:util';
import dayjs from 'dayjs';
import { roleSchema } from '../src/domain/auth/principal.js';
import { TokenService } from '../src/domain/auth/token.service.js';
import { ValidationError } from '../src/infra/errors.js';
import { fail, openCliContext } from './lib/cli-context.js';

const usage = `npm run token -- create --role <role> [--corp <corpId>]... [--userid <WeCom userid>] [--label <text>] [--expires-in-days <n>]
npm run token -- list
npm run token -- revoke <tokenId>

Roles: admin, oem, dealer_admin, marketing, manager, advisor, integration.
The token is printed once; only its SHA-256 is stored.`;

/** API token management (docs/architecture.md §5): create (printed once), list, revoke. */
async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !['create', 'list', 'revoke'].includes(command)) fail(usage);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      corp: { type: 'string', multiple: true },
      userid: { type: 'string' },
      label: { type: 'string' },
      'expires-in-days': { type: 'string' },
    },
  });
  const cli = await openCliContext('token');
  const tokens = new TokenService(() => new Date());
  try {
    if (command === 'create') {
      const role = roleSchema.safeParse(values.role);
      if (!role.success) fail(`--role: ${role.error.issues[0]?.message ?? 'required'}\n\n${usage}`);
      const days = values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
        fail(`--expires-in-days must be an integer 1-3650\n\n${usage}`);
      const expiresAt = days === undefined ? undefined : dayjs().add(days, 'day').toDate();
      const created = await tokens.create({
        role: role.data,
        corps: values.corp ?? [],
        userid: values.userid,
        label: values.label,
        expiresAt,
      });
      console.error(`token ${created.tokenId} created for role ${role.data}; it is shown only now:`);
      console.log(created.token);
    } else if (command === 'list') {
      for (const t of await tokens.list())
        console.log(
          [
            t.tokenId,
            t.role,
            t.corps.join(',') || '*',
            t.userid ?? '-',
            t.revokedAt
              ? `revoked ${t.revokedAt.toISOString()}`
              : t.expiresAt
                ? `expires ${t.expiresAt.toISOString()}`
                : 'active',
            t.lastUsedAt ? `used ${t.lastUsedAt.toISOString()}` : 'never used',
            t.label ?? '',
          ].join('\t'),
        );
    } else {
      const id = positionals[0] ?? fail(usage);
      console.log((await tokens.revoke(id)) ? `revoked ${id}` : `no active token ${id}`);
    }
  } catch (err) {
    if (err instanceof ValidationError) fail(err.problems.map((p) => `--${p.path}: ${p.message}`).join('\n'), 65);
    throw err;
  } finally {
    await cli.close();
  }
}

main().catch((err: unknown) => fail(`token: ${(err as Error).message}`, 69));
