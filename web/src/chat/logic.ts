// What the chat screens work out from conversations and messages, kept apart so it is tested
// without a browser.

import type { Conversation } from '../api/client';
import type { Translate } from '../i18n';

/** Message ids are UUIDv7: later messages have larger ids, and their text sorts the same way. */
export function isNewer(id: string, than: string): boolean {
  return id.toLowerCase() > than.toLowerCase();
}

/** The conversation as its list names it: its own name, the group's for a channel, else the
 *  others in it (the reader left out). */
export function titleOf(conversation: Conversation, me: string, channel: string): string {
  if (conversation.name) return conversation.name;
  const others = conversation.members.filter((member) => member.person.id !== me).map((member) => member.person.display_name);
  if (others.length > 0) return others.join(', ');
  return conversation.kind === 'channel' ? channel : '';
}

/** The others whose read marker has reached `messageId` (shown under my last message). */
export function seenBy(conversation: Conversation, messageId: string, me: string) {
  return conversation.members.filter(
    (member) => member.person.id !== me && member.last_read_id != null && !isNewer(messageId, member.last_read_id),
  );
}

/** "Anna is typing…", "Anna and Bram are typing…", "3 people are typing…". */
export function typingLine(names: string[], t: Translate): string {
  if (names.length === 0) return '';
  if (names.length === 1) return t('chat.typingOne', { name: names[0] ?? '' });
  if (names.length === 2) return t('chat.typingTwo', { first: names[0] ?? '', second: names[1] ?? '' });
  return t('chat.typingMany', { count: names.length });
}
