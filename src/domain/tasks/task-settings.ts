import { z } from 'zod';
import { DURATION_PATTERN, LOCAL_TIME_PATTERN } from '../rules/durations.js';

const localTime = z.string().regex(LOCAL_TIME_PATTERN, { error: 'use a 24-hour local time like 08:30' });
const duration = z.string().regex(DURATION_PATTERN, { error: 'use a duration like 24h or 2d' });

/** A local-time window `[start, end)` in the corp's zone; it may wrap midnight (21:00–09:00). */
export const quietHoursSchema = z.object({ start: localTime, end: localTime }).strict();
export type QuietHours = z.infer<typeof quietHoursSchema>;

/**
 * Follow-up task settings of one corp (docs/tasks.md): advisors' working hours in the corp's zone
 * (cards due outside them go out at the next start), the escalation ladder's defaults, which
 * a rule's `follow_up` action may override (sla, escalation.after, escalation.flagAfter), and the
 * corp's quiet hours for customer messages, which a rule's guard may override (docs/console.md).
 */
export const taskSettingsSchema = z
  .object({
    workingHours: z.object({ start: localTime, end: localTime }).strict().default({ start: '08:30', end: '20:00' }),
    /**
     * No customer-message task is created inside this window (it moves to its end); rules without
     * their own `guards.quietHours` use it. `null` switches the corp default off.
     */
    quietHours: quietHoursSchema.nullable().default({ start: '21:00', end: '09:00' }),
    /** Level 1: remind the advisor when the task is still open this long after due. */
    sla: duration.default('24h'),
    /** Level 2: escalate to the advisor's leader this long after due. */
    escalateAfter: duration.default('48h'),
    /** Level 3: flag the task (and offer the leader a reassignment when `reassignOnFlag`). */
    flagAfter: duration.default('72h'),
    reassignOnFlag: z.boolean().default(false),
    /** More cards than this for one advisor at once become one digest (WeCom drops > 30/min per member). */
    digestThreshold: z.number().int().min(1).max(30).default(5),
    /** App messages we allow ourselves per advisor per minute (WeCom: 30, excess silently dropped). */
    perMinuteBudget: z.number().int().min(1).max(30).default(20),
  })
  .strict();

export type TaskSettings = z.infer<typeof taskSettingsSchema>;
export const defaultTaskSettings: TaskSettings = taskSettingsSchema.parse({});

/** Settings as stored on a corp document, defaults filled in (older corps lack newer fields). */
export function parseStoredTaskSettings(stored: unknown): TaskSettings {
  return taskSettingsSchema.safeParse(stored ?? {}).data ?? defaultTaskSettings;
}

/**
 * The corp's task settings, defaults filled in: a corp stored before follow-up tasks existed has none, and a corp
 * snapshot written by an older version (the web's Redis snapshot) may lack newer fields.
 */
export function taskSettingsOf(corp: { tasks?: Partial<TaskSettings> | undefined } | undefined): TaskSettings {
  return corp?.tasks ? { ...defaultTaskSettings, ...corp.tasks } : defaultTaskSettings;
}
