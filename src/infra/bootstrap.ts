import { ConfigError, loadConfig, type AppConfig } from '../../config/index.js';

/**
 * Loads config for a process entry point; on failure prints every problem with the variable
 * names (not a stack trace) and exits non-zero before anything listens.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv, role: string): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[${role}] cannot start: invalid configuration (see config/.env.example)`);
      for (const problem of err.problems) console.error(`  - ${problem}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
