import { ConfigError, loadConfig, type AppConfig } from '../../config/index.js';
import { loadEnvFiles } from '../../config/env-files.js';

/**
 * Loads config for a process entry point (web, worker and every CLI alike): settings files first
 * (`.env`, then in development the running `npm run dev` stack's `.data/dev.env`; see
 * config/env-files.ts), then validation. On failure prints every problem with the variable names
 * and where settings were looked for (not a stack trace) and exits non-zero before anything listens.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv, role: string): AppConfig {
  const loaded = loadEnvFiles(env);
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      const sources = ['the environment', ...loaded.files].join(', ');
      console.error(
        `[${role}] cannot start: invalid configuration (read from ${sources}; every variable is described in config/.env.example)`,
      );
      for (const problem of err.problems) console.error(`  - ${problem}`);
      if (!loaded.devStack && env.NODE_ENV !== 'production') {
        console.error(
          '  In development, start the local stack first with `npm run dev`: it writes its settings to .data/dev.env, which npm start and every CLI then use.',
        );
      }
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
