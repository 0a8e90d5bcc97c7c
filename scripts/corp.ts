/**
 * Corp management: `npm run corp -- add|update|disable|list`.
 *   add     --corp-id ww… --name "Dealer A" --agent-id 1000002 --secret … --token … --aes-key …
 *           [--kind dealer|oem] [--sync-token … --sync-aes-key …] [--timezone Asia/Shanghai]
 *   update  --corp-id ww… [any of the add options] [--enable]
 *           [--marketing u1,u2] [--dealer-admins u3] [--admins u4]   (console roles by WeCom userid;
 *           each given list replaces that list, "" empties it; lists not given are kept)
 *           [--oem-staff u5] [--analysts u6]   (the car maker's corp only: rule authors and
 *           read-only KPI analysts; nobody else of that corp may sign in)
 *   disable --corp-id ww…
 *   list    (never prints secrets)
 *   apply   --file corps.json   (the CORPS_FILE format, idempotent)
 * Reads the same environment as the web (MONGODB_URI, DATA_KEYS, REDIS_URL for the change notice).
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/infra/bootstrap.js';
import { DataCipher } from '../src/infra/data-crypto.js';
import { createLogger } from '../src/infra/logger.js';
import { connectMongo, disconnectMongo } from '../src/infra/mongo.js';
import { createRedis, redisSecurity } from '../src/infra/redis.js';
import { CorpService } from '../src/domain/corps/corp.service.js';
import { applyCorpsFile } from '../src/domain/corps/corps-file.js';
import type { CorpPatch } from '../src/domain/corps/corp.types.js';
import { defaultConsoleRoles, type ConsoleRoles } from '../src/domain/auth/console-roles.js';

/** `--marketing a,b` → ['a', 'b']; `""` → []; absent → undefined (keep the current list). */
const userList = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);

/** The console roles after the CLI's lists replace the corp's current ones; undefined when none were given. */
async function consoleRolesPatch(service: CorpService, corpId: string): Promise<ConsoleRoles | undefined> {
  const lists = {
    marketing: userList(values.marketing),
    dealerAdmins: userList(values['dealer-admins']),
    admins: userList(values.admins),
    oem: userList(values['oem-staff']),
    analysts: userList(values.analysts),
  };
  if (Object.values(lists).every((l) => l === undefined)) return undefined;
  const current = (await service.loadAll()).find((c) => c.corpId === corpId)?.consoleRoles ?? defaultConsoleRoles;
  return {
    admins: lists.admins ?? current.admins,
    dealerAdmins: lists.dealerAdmins ?? current.dealerAdmins,
    marketing: lists.marketing ?? current.marketing,
    oem: lists.oem ?? current.oem,
    analysts: lists.analysts ?? current.analysts,
  };
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'corp-id': { type: 'string' },
    name: { type: 'string' },
    'agent-id': { type: 'string' },
    secret: { type: 'string' },
    token: { type: 'string' },
    'aes-key': { type: 'string' },
    kind: { type: 'string' },
    'sync-token': { type: 'string' },
    'sync-aes-key': { type: 'string' },
    timezone: { type: 'string' },
    enable: { type: 'boolean' },
    file: { type: 'string' },
    marketing: { type: 'string' },
    'dealer-admins': { type: 'string' },
    admins: { type: 'string' },
    'oem-staff': { type: 'string' },
    analysts: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const command = positionals[0];
  const config = loadConfigOrExit(process.env, 'corp');
  const logger = createLogger({ level: 'warn', name: 'corp-cli' });
  const redis = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'producer',
    logger,
    connectionName: 'scrm-corp-cli',
  });
  await connectMongo({
    uri: config.mongo.uri,
    serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs,
    logger,
  });
  const service = new CorpService({
    cipher: new DataCipher(config.dataKeys.keys, config.dataKeys.activeId),
    defaultTimezone: config.defaultTimezone,
    redis,
    prefix: config.redis.queuePrefix,
  });
  const corpId = values['corp-id'];
  try {
    switch (command) {
      case 'add': {
        const result = await service.upsert({
          corpId: corpId ?? '',
          displayName: values.name ?? '',
          agentId: Number(values['agent-id']),
          secret: values.secret ?? '',
          callbackToken: values.token ?? '',
          callbackAesKey: values['aes-key'] ?? '',
          kind: values.kind as 'dealer' | 'oem' | undefined,
          contactSyncToken: values['sync-token'],
          contactSyncAesKey: values['sync-aes-key'],
          timezone: values.timezone,
        });
        console.log(`${result.created ? 'added' : result.changed ? 'updated' : 'unchanged'}: ${result.corpId}`);
        break;
      }
      case 'update': {
        if (!corpId) throw new Error('--corp-id is required');
        const patch: CorpPatch = {
          displayName: values.name,
          agentId: values['agent-id'] === undefined ? undefined : Number(values['agent-id']),
          secret: values.secret,
          callbackToken: values.token,
          callbackAesKey: values['aes-key'],
          kind: values.kind as 'dealer' | 'oem' | undefined,
          contactSyncToken: values['sync-token'],
          contactSyncAesKey: values['sync-aes-key'],
          timezone: values.timezone,
          enabled: values.enable ? true : undefined,
          consoleRoles: await consoleRolesPatch(service, corpId),
        };
        await service.update(corpId, patch);
        console.log(`updated: ${corpId}`);
        break;
      }
      case 'disable':
        if (!corpId) throw new Error('--corp-id is required');
        await service.disable(corpId);
        console.log(`disabled: ${corpId}`);
        break;
      case 'list':
        console.table(await service.list());
        break;
      case 'apply':
        if (!values.file) throw new Error('--file is required');
        console.log(await applyCorpsFile(values.file, service, logger));
        break;
      default:
        throw new Error('usage: npm run corp -- add|update|disable|list|apply [options] (see scripts/corp.ts)');
    }
  } finally {
    await disconnectMongo();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  // zod messages name the field, never echo a secret value.
  console.error(`corp: ${(err as Error).message}`);
  process.exit(1);
});
