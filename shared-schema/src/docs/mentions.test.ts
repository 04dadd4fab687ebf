import { describe, expect, it } from 'vitest';
import { mentionedHandles } from './conversation.ts';

describe('the @handles of a body', () => {
  it('reads handles as the markup does, each once, lowercased', () => {
    expect(mentionedHandles('ping @ada.b now, @ADA.B?')).toEqual(['ada.b']);
    expect(mentionedHandles('@bobby and @bob')).toEqual(['bobby', 'bob']);
    expect(mentionedHandles('mail ada.b@x.org or x@ada.b, @@ada')).toEqual([]);
    expect(mentionedHandles('@al is too short')).toEqual([]);
  });

  it('also gives a handle that ends a sentence without its full stop', () => {
    expect(mentionedHandles('thanks @bob.')).toEqual(['bob.', 'bob']);
    expect(mentionedHandles('see @ada.b... later')).toEqual(['ada.b...', 'ada.b']);
    expect(mentionedHandles('@bo.')).toEqual(['bo.']);
  });
});
