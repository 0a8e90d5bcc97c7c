import { describe, expect, it } from 'vitest';
import { defaultTaskSettings, parseStoredTaskSettings, taskSettingsOf } from './task-settings.js';

describe('task settings of a corp', () => {
  it('fills defaults for a corp without settings and for fields an older snapshot lacks', () => {
    expect(taskSettingsOf(undefined)).toEqual(defaultTaskSettings);
    expect(taskSettingsOf({ tasks: { sla: '12h' } })).toEqual({ ...defaultTaskSettings, sla: '12h' });
    expect(taskSettingsOf({ tasks: { sla: '12h' } }).quietHours).toEqual({ start: '21:00', end: '09:00' });
  });

  it('keeps quiet hours switched off (null) rather than putting the default back', () => {
    expect(taskSettingsOf({ tasks: { ...defaultTaskSettings, quietHours: null } }).quietHours).toBeNull();
    expect(parseStoredTaskSettings({ quietHours: null }).quietHours).toBeNull();
  });

  it('reads stored settings with defaults, and falls back to the defaults when they are unreadable', () => {
    expect(parseStoredTaskSettings(undefined)).toEqual(defaultTaskSettings);
    expect(parseStoredTaskSettings({ workingHours: { start: '09:00', end: '18:00' } })).toMatchObject({
      workingHours: { start: '09:00', end: '18:00' },
      quietHours: { start: '21:00', end: '09:00' },
      sla: '24h',
    });
    expect(parseStoredTaskSettings({ sla: 'soon' })).toEqual(defaultTaskSettings);
  });
});
