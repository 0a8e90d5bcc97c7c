import { describe, expect, it } from 'vitest';
import { errorAt, fieldErrors, propOf } from './problem-paths.js';

describe('422 problem paths → form props', () => {
  it("maps the API's dotted paths (and JSON pointers) to the props of the form items", () => {
    expect(propOf('actions[0].text')).toBe('actions.0.text');
    expect(propOf('actions[1].attachments[2].url')).toBe('actions.1.attachments.2.url');
    expect(propOf('trigger.offset')).toBe('trigger.offset');
    expect(propOf('/corpId')).toBe('corpId');
    expect(propOf('(rule)')).toBe('');
  });

  it('groups messages by prop and finds them at a field or below it', () => {
    const errors = fieldErrors([
      { path: 'actions[0].text', message: 'the text cannot be empty' },
      { path: 'trigger.tag.name', message: 'a tag name cannot be empty' },
      { path: 'actions[0].text', message: 'at most 4000 bytes' },
      { path: 'actions[1]', message: 'a card needs a title' },
    ]);
    expect(errors['actions.0.text']).toBe('the text cannot be empty; at most 4000 bytes');
    expect(errorAt(errors, 'trigger.tag')).toBe('');
    expect(errorAt(errors, 'trigger.tag', true)).toBe('a tag name cannot be empty');
    expect(errorAt(errors, 'actions.1')).toBe('a card needs a title');
    expect(errorAt(errors, 'actions.10', true)).toBe('');
  });
});
