import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { parseEnv } from 'node:util';

/** Where `npm run dev` writes the settings of the stack it runs (relative to the data dir). */
export const DEV_ENV_FILE_NAME = 'dev.env';

/** The dev stack's data directory: DEV_DATA_DIR, else `.data` in the working directory. */
export function devDataDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  const dir = env.DEV_DATA_DIR;
  if (!dir) return join(cwd, '.data');
  return isAbsolute(dir) ? dir : join(cwd, dir);
}

export interface EnvFilesLoaded {
  /** The files read, in order, as paths relative to the working directory when inside it. */
  files: string[];
  /** Whether the running dev stack's settings were among them. */
  devStack: boolean;
}

/**
 * Reads settings files into `env` without overriding what is already set, the same way for
 * every entry point (web, worker, CLIs): first `.env` (or ENV_FILE), then, in development, the
 * settings `npm run dev` wrote for the stack it runs (`.data/dev.env`), so `npm start` and every
 * CLI reach the dev stack with nothing exported. Production and tests never read the dev file,
 * nor does `npm run dev` itself (`devStack: false`).
 */
export function loadEnvFiles(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
  opts: { devStack?: boolean } = {},
): EnvFilesLoaded {
  const files: string[] = [];
  const apply = (path: string): void => {
    for (const [name, value] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) {
      if (env[name] === undefined || env[name] === '') env[name] = value;
    }
    files.push(relative(cwd, path).startsWith('..') ? path : relative(cwd, path));
  };
  const envFile = env.ENV_FILE ?? '.env';
  const envPath = isAbsolute(envFile) ? envFile : join(cwd, envFile);
  if (existsSync(envPath)) apply(envPath);
  let devStack = false;
  // Development only (NODE_ENV unset or development): tests and production never pick it up.
  if (
    (env.NODE_ENV === undefined || env.NODE_ENV === '' || env.NODE_ENV === 'development') &&
    opts.devStack !== false
  ) {
    const devPath = join(devDataDir(env, cwd), DEV_ENV_FILE_NAME);
    if (existsSync(devPath)) {
      apply(devPath);
      devStack = true;
    }
  }
  return { files, devStack };
}
