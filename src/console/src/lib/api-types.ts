/**
 * API shapes, imported from the server's own definitions (type-only: nothing of the server is
 * bundled) so the console cannot drift from /api/v1. JSON turns Dates into strings: `Jsonify`.
 */
import type { ConsoleMe as ServerMe } from '../../../routes/console/console-auth.routes.js';
import type { ApiTask as ServerTask } from '../../../routes/api/task-present.js';
import type { RuleView } from '../../../domain/rules/rule.service.js';
import type { Role } from '../../../domain/auth/principal.js';

export type Jsonify<T> = T extends Date ? string : T extends readonly (infer U)[] ? Jsonify<U>[] : T extends object ? { [K in keyof T]: Jsonify<T[K]> } : T;

export type Me = Jsonify<ServerMe>;
export type Task = Jsonify<ServerTask>;
export type Rule = Jsonify<RuleView>;
export type { Role };
export interface SignInCorp {
  corpId: string;
  displayName: string;
  kind: 'dealer' | 'oem';
}
