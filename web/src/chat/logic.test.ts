import { describe, expect, it } from 'vitest';
import type { Conversation } from '../api/client';
import { translator } from '../i18n';
import { isNewer, seenBy, titleOf, typingLine } from './logic';

const card = (id: string, display_name: string) => ({ id, display_name });

function conversation(partial: Partial<Conversation>): Conversation {
  return {
    id: 'c1',
    kind: 'group',
    members: [],
    member_count: 0,
    unread: 0,
    muted: false,
    last_activity_at: '2026-12-01T10:00:00Z',
    created_at: '2026-12-01T10:00:00Z',
    ...partial,
  };
}

// Time-ordered ids (UUIDv7): the first 48 bits are the time.
const early = '019ad000-0000-7000-8000-000000000001';
const later = '019ad000-0001-7000-8000-000000000000';
const latest = '019AD001-0000-7000-8000-000000000000';

describe('chat logic', () => {
  it('orders message ids by time, whatever their case', () => {
    expect(isNewer(later, early)).toBe(true);
    expect(isNewer(early, later)).toBe(false);
    expect(isNewer(latest, later)).toBe(true);
    expect(isNewer(early, early)).toBe(false);
  });

  it('names a conversation by its name, else the others in it', () => {
    const members = [
      { person: card('me', 'Ik Zelf'), last_read_id: null },
      { person: card('a', 'Anna Aarts'), last_read_id: null },
      { person: card('b', 'Bram Bos'), last_read_id: null },
    ];
    expect(titleOf(conversation({ members, name: 'Borrel' }), 'me', 'Group chat')).toBe('Borrel');
    expect(titleOf(conversation({ members }), 'me', 'Group chat')).toBe('Anna Aarts, Bram Bos');
    expect(titleOf(conversation({ kind: 'channel', members: [] }), 'me', 'Group chat')).toBe('Group chat');
  });

  it('lists who has read up to a message, never me', () => {
    const members = [
      { person: card('me', 'Ik Zelf'), last_read_id: latest },
      { person: card('a', 'Anna Aarts'), last_read_id: later },
      { person: card('b', 'Bram Bos'), last_read_id: early },
      { person: card('c', 'Carla Claes'), last_read_id: null },
    ];
    const seen = seenBy(conversation({ members }), later, 'me').map((member) => member.person.id);
    expect(seen).toEqual(['a']);
    expect(seenBy(conversation({ members }), early, 'me').map((member) => member.person.id)).toEqual(['a', 'b']);
  });

  it('says who is typing in both languages', () => {
    const en = translator('en');
    const nl = translator('nl');
    expect(typingLine([], en)).toBe('');
    expect(typingLine(['Anna'], en)).toBe('Anna is typing…');
    expect(typingLine(['Anna', 'Bram'], nl)).toBe('Anna en Bram typen…');
    expect(typingLine(['Anna', 'Bram', 'Carla'], en)).toBe('3 people are typing…');
  });
});
