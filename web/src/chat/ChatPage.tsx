// Chat: my conversations on the left (unread badges, presence dots), the open one on the right
// (history scrolling back, a jump to the first unread, typing, "seen by", edit, delete, react,
// reply, files). On a phone one of the two shows at a time. Everything that arrives comes over
// the tab's socket; every action is a REST call.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, REACTIONS, type ChatMessage, type Conversation, type PersonCard, type Reaction } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { useLive, useLiveFrames, useOnResync } from '../lib/LiveContext';
import type { ServerFrame } from '../lib/live';
import { Avatar } from '../components/Avatar';
import { ErrorMessage, Loading } from '../components/ErrorMessage';
import { relativeTime } from '../lib/time';
import { Latest } from '../lib/latest';
import { MentionField } from '../social/Composer';
import { Attachments, REACTION_SIGNS } from '../social/PostCard';
import { AddFiles, FileChips, useUploads } from '../social/Files';
import { isNewer, seenBy, titleOf, typingLine } from './logic';

type Presence = 'online' | 'away' | 'offline';

/** Calls `run` once, `ms` after the last of a burst of calls. */
function useDebounced(run: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => () => {
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);
  return () => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  };
}

export function ChatPage() {
  const { t } = useI18n();
  const { params } = useRoute();
  const id = params.id ?? null;
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  useLiveFrames((frame) => {
    if (frame.type === 'presence') setPresence((current) => new Map(current).set(frame.person_id, frame.state));
  });
  return (
    <section class={`chat${id ? ' chat-open' : ''}`} aria-labelledby="chat-title">
      <ConversationList selected={id} presence={presence} />
      <div class="chat-main">
        {id ? (
          <ConversationView key={id} id={id} presence={presence} />
        ) : (
          <p class="muted chat-choose">{t('chat.choose')}</p>
        )}
      </div>
    </section>
  );
}

function PresenceDot({ state }: { state: Presence | undefined }) {
  const { t } = useI18n();
  if (!state) return null;
  return <span class={`presence presence-${state}`} role="img" aria-label={t(`chat.presence.${state}`)} />;
}

function ConversationList({ selected, presence }: { selected: string | null; presence: Map<string, Presence> }) {
  const { t } = useI18n();
  const { person } = useSession();
  const { send, state } = useLive();
  const me = person?.id ?? '';
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const load = () =>
    api.conversations().then((list) => {
      setItems(list.items);
      setError(null);
    }, setError);
  const reload = useDebounced(() => void load(), 250);
  useEffect(() => {
    void load();
  }, []);
  useOnResync(() => void load());
  useLiveFrames((frame) => {
    if (frame.type.startsWith('message.') || frame.type === 'conversation.changed' || (frame.type === 'conversation.read' && frame.person_id === me)) reload();
  });
  // The people of my direct conversations: their dots.
  const watched = useMemo(
    () =>
      (items ?? [])
        .filter((conversation) => conversation.kind === 'direct')
        .flatMap((conversation) => conversation.members.map((member) => member.person.id))
        .filter((id) => id !== me)
        .sort(),
    [items, me],
  );
  useEffect(() => {
    if (state === 'live' && watched.length > 0) send({ type: 'presence.watch', person_ids: watched });
  }, [watched.join(','), state]);

  return (
    <aside class="chat-list" aria-labelledby="chat-title">
      <div class="row">
        <h1 id="chat-title">{t('chat.title')}</h1>
        <button type="button" class="button-secondary push-right" aria-expanded={starting} onClick={() => setStarting(!starting)}>
          {t('chat.new')}
        </button>
      </div>
      {starting && <NewConversation onDone={() => setStarting(false)} />}
      {error !== null && <ErrorMessage error={error} onRetry={() => void load()} />}
      {items === null ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">{t('chat.empty')}</p>
      ) : (
        <ul class="conversation-list">
          {items.map((conversation) => {
            const other = conversation.kind === 'direct' ? conversation.members.find((member) => member.person.id !== me)?.person : undefined;
            const title = titleOf(conversation, me, t('chat.channel'));
            const last = conversation.last_message;
            return (
              <li key={conversation.id}>
                <a
                  href={`/chat/${conversation.id}`}
                  class={`conversation-link${conversation.unread > 0 ? ' conversation-unread' : ''}`}
                  aria-current={conversation.id === selected ? 'page' : undefined}
                >
                  <span class="avatar-with-dot">
                    <Avatar name={title} id={other?.id ?? conversation.id} photoUrl={other?.photo_url} size="small" />
                    {other && <PresenceDot state={presence.get(other.id)} />}
                  </span>
                  <span class="conversation-text">
                    <span class="conversation-title">{title}</span>
                    <span class="muted small conversation-last">
                      {last ? (last.deleted ? t('chat.deleted') : `${last.author.id === me ? `${t('chat.you')}: ` : ''}${last.body}`) : t('chat.noMessages')}
                    </span>
                  </span>
                  {conversation.unread > 0 && (
                    <span class="badge badge-inline">
                      {conversation.unread}
                      <span class="visually-hidden"> {t('chat.unread', { count: conversation.unread })}</span>
                    </span>
                  )}
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </aside>
  );
}

/** Finds colleagues by name and starts a conversation with them (one: the direct one). */
function NewConversation({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const { route } = useLocation();
  const { person } = useSession();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<PersonCard[]>([]);
  const [chosen, setChosen] = useState<PersonCard[]>([]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const latest = useMemo(() => new Latest(), []);
  useEffect(() => {
    if (q.trim() === '') {
      setFound([]);
      return;
    }
    latest
      .run((signal) => api.search({ q, limit: 8 }, signal))
      .then((answer) => answer && setFound(answer.hits.filter((hit) => hit.id !== person?.id)))
      .catch(setError);
  }, [q]);
  return (
    <form
      class="form new-conversation"
      onSubmit={(event) => {
        event.preventDefault();
        setError(null);
        api.startConversation(
          chosen.map((card) => card.id),
          chosen.length > 1 ? name.trim() : undefined,
        ).then((conversation) => {
          onDone();
          route(`/chat/${conversation.id}`);
        }, setError);
      }}
    >
      <label for="chat-people">{t('chat.searchPeople')}</label>
      <input id="chat-people" type="search" autoComplete="off" value={q} onInput={(event) => setQ(event.currentTarget.value)} />
      {chosen.length > 0 && (
        <ul class="chips" aria-label={t('chat.people')}>
          {chosen.map((card) => (
            <li key={card.id} class="chip">
              {card.display_name}{' '}
              <button type="button" class="button-link" aria-label={t('chat.remove', { name: card.display_name })} onClick={() => setChosen(chosen.filter((other) => other.id !== card.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {found.length > 0 && (
        <ul class="people-picker">
          {found.map((card) => {
            const on = chosen.some((other) => other.id === card.id);
            return (
              <li key={card.id}>
                <button
                  type="button"
                  class="button-link"
                  aria-pressed={on}
                  onClick={() => setChosen(on ? chosen.filter((other) => other.id !== card.id) : [...chosen, card])}
                >
                  {card.display_name}
                  {card.department && <span class="muted small"> · {card.department}</span>}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {chosen.length > 1 && (
        <>
          <label for="chat-name">{t('chat.name')}</label>
          <input id="chat-name" maxLength={100} value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <button type="submit" disabled={chosen.length === 0}>
        {t('chat.start')}
      </button>
    </form>
  );
}

/** A message being sent: shown at once, replaced by the stored one when it comes back. */
interface Pending {
  clientId: string;
  body: string;
  replyTo: string | null;
  attachments: string[];
  failed: boolean;
}

function ConversationView({ id, presence }: { id: string; presence: Map<string, Presence> }) {
  const { t, language } = useI18n();
  const { person } = useSession();
  const { send } = useLive();
  const me = person?.id ?? '';
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [hasNewer, setHasNewer] = useState(false);
  const [firstUnread, setFirstUnread] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending[]>([]);
  const [typing, setTyping] = useState<Map<string, number>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [body, setBody] = useState('');
  const [now, setNow] = useState(Date.now());
  const scroller = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const lastTyped = useRef(0);
  const marked = useRef<string | null>(null);
  const loadingOlder = useRef(false);
  const uploads = useUploads([], setError);

  const people = useMemo(() => {
    const cards = new Map<string, PersonCard>();
    for (const member of conversation?.members ?? []) cards.set(member.person.id, member.person);
    for (const message of messages) cards.set(message.author.id, message.author);
    return cards;
  }, [conversation, messages]);

  const toBottom = () => requestAnimationFrame(() => {
    const box = scroller.current;
    if (box) box.scrollTop = box.scrollHeight;
  });

  const open = async () => {
    setError(null);
    try {
      const found = await api.conversation(id);
      setConversation(found);
      const unreadFrom = found.unread > 0 ? found.last_read_id : null;
      const page = await api.messages(id, unreadFrom ? { around: unreadFrom } : {});
      setMessages(page.items);
      setHasOlder(page.has_older);
      setHasNewer(page.has_newer);
      const first = unreadFrom ? page.items.find((message) => isNewer(message.id, unreadFrom) && message.author.id !== me) : undefined;
      setFirstUnread(first?.id ?? null);
      requestAnimationFrame(() => {
        const mark = first && document.getElementById(`message-${first.id}`);
        if (mark) mark.scrollIntoView({ block: 'center' });
        else toBottom();
      });
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => {
    void open();
  }, [id]);
  useOnResync(() => void open());

  /** Everything after the newest message shown (a message arrived, or the socket came back). */
  const catchUp = useDebounced(async () => {
    const newest = messages[messages.length - 1];
    if (hasNewer) return;
    try {
      const page = newest ? await api.messages(id, { after: newest.id }) : await api.messages(id, {});
      if (page.items.length === 0) return;
      const box = scroller.current;
      const atBottom = !box || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      setMessages((current) => {
        const known = new Set(current.map((message) => message.id));
        return [...current, ...page.items.filter((message) => !known.has(message.id))];
      });
      const arrived = new Set(page.items.map((message) => message.client_id));
      setPending((current) => current.filter((item) => !arrived.has(item.clientId)));
      if (atBottom) toBottom();
    } catch (failure) {
      setError(failure);
    }
  }, 50);

  const loadOlder = async () => {
    const oldest = messages[0];
    if (!oldest || !hasOlder || loadingOlder.current) return;
    loadingOlder.current = true;
    try {
      const box = scroller.current;
      const before = box ? box.scrollHeight - box.scrollTop : 0;
      const page = await api.messages(id, { before: oldest.id });
      setMessages((current) => [...page.items, ...current]);
      setHasOlder(page.has_older);
      // Keep what was on screen where it was.
      requestAnimationFrame(() => {
        if (box) box.scrollTop = box.scrollHeight - before;
      });
    } catch (failure) {
      setError(failure);
    } finally {
      loadingOlder.current = false;
    }
  };

  // Scrolling back to the top loads older messages.
  useEffect(() => {
    const sentinel = top.current;
    if (!sentinel || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadOlder();
    }, { root: scroller.current });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasOlder, messages[0]?.id]);

  // What I see, I have read: the newest message, while the tab is visible.
  useEffect(() => {
    const newest = messages[messages.length - 1];
    if (!newest || hasNewer || document.visibilityState !== 'visible') return;
    if (marked.current !== null && !isNewer(newest.id, marked.current)) return;
    marked.current = newest.id;
    api.markConversationRead(id, newest.id).catch(() => undefined);
  }, [messages, hasNewer]);

  useLiveFrames((frame: ServerFrame) => {
    switch (frame.type) {
      case 'message.created':
        if (frame.message.conversation_id === id) {
          setTyping((current) => {
            const next = new Map(current);
            next.delete(frame.message.author_id);
            return next;
          });
          catchUp();
        }
        break;
      case 'message.updated':
      case 'message.deleted':
        if (frame.message.conversation_id === id) {
          const changed = frame.message;
          setMessages((current) =>
            current.map((message) =>
              message.id === changed.id
                ? { ...message, body: changed.body, html: changed.html, edited_at: changed.edited_at ?? null, deleted: changed.deleted, attachments: changed.deleted ? [] : message.attachments }
                : message,
            ),
          );
        }
        break;
      case 'message.reaction_changed':
        if (frame.conversation_id === id) {
          const { message_id, person_id, on } = frame;
          const reaction = frame.reaction as Reaction;
          setMessages((current) =>
            current.map((message) => {
              if (message.id !== message_id) return message;
              const mine = person_id === me;
              if (mine && message.my_reactions.includes(reaction) === on) return message;
              const counts = message.reactions.map((entry) => (entry.reaction === reaction ? { ...entry, count: entry.count + (on ? 1 : -1) } : entry));
              if (on && !counts.some((entry) => entry.reaction === reaction)) counts.push({ reaction, count: 1 });
              return {
                ...message,
                reactions: counts.filter((entry) => entry.count > 0),
                my_reactions: mine ? (on ? [...message.my_reactions, reaction] : message.my_reactions.filter((own) => own !== reaction)) : message.my_reactions,
              };
            }),
          );
        }
        break;
      case 'conversation.read':
        if (frame.conversation_id === id) {
          setConversation((current) =>
            current && {
              ...current,
              members: current.members.map((member) => (member.person.id === frame.person_id ? { ...member, last_read_id: frame.message_id } : member)),
            },
          );
        }
        break;
      case 'conversation.changed':
        if (frame.conversation_id === id) api.conversation(id).then(setConversation, setError);
        break;
      case 'typing':
        if (frame.conversation_id === id && frame.person_id !== me) setTyping((current) => new Map(current).set(frame.person_id, Date.now() + 6_000));
        break;
      case 'hello':
        // Back after a drop: whatever was missed and not replayed.
        catchUp();
        break;
      default:
        break;
    }
  });

  // Typing lines fade after a few seconds without news.
  useEffect(() => {
    if (typing.size === 0) return;
    const timer = setInterval(() => {
      setNow(Date.now());
      setTyping((current) => {
        const next = new Map([...current].filter(([, until]) => until > Date.now()));
        return next.size === current.size ? current : next;
      });
    }, 1_000);
    return () => clearInterval(timer);
  }, [typing.size]);

  const sendPending = (item: Pending) => {
    setPending((current) => [...current.filter((other) => other.clientId !== item.clientId), { ...item, failed: false }]);
    api
      .sendMessage(id, { body: item.body, client_id: item.clientId, reply_to: item.replyTo, attachments: item.attachments })
      .then(
        (stored) => {
          setPending((current) => current.filter((other) => other.clientId !== item.clientId));
          setMessages((current) => (current.some((message) => message.id === stored.id) ? current : [...current, stored]));
          toBottom();
        },
        (failure: unknown) => {
          setError(failure);
          setPending((current) => current.map((other) => (other.clientId === item.clientId ? { ...other, failed: true } : other)));
        },
      );
  };

  const submit = () => {
    const text = body.trim();
    if (text === '' && uploads.files.length === 0) return;
    setError(null);
    sendPending({
      clientId: crypto.randomUUID(),
      body: text,
      replyTo: replyTo?.id ?? null,
      attachments: uploads.files.map((file) => file.id),
      failed: false,
    });
    setBody('');
    setReplyTo(null);
    uploads.setFiles([]);
    toBottom();
  };

  const replace = (stored: ChatMessage) => setMessages((current) => current.map((message) => (message.id === stored.id ? stored : message)));
  const act = (work: () => Promise<void>) => {
    setError(null);
    work().catch(setError);
  };

  if (conversation === null) return error !== null ? <ErrorMessage error={error} onRetry={() => void open()} /> : <Loading />;
  const title = titleOf(conversation, me, t('chat.channel'));
  const other = conversation.kind === 'direct' ? conversation.members.find((member) => member.person.id !== me)?.person : undefined;
  const mineLast = [...messages].reverse().find((message) => message.author.id === me && !message.deleted);
  const seen = mineLast ? seenBy(conversation, mineLast.id, me) : [];
  const typingNames = [...typing.entries()].filter(([, until]) => until > now).map(([who]) => people.get(who)?.display_name ?? '?');

  return (
    <div class="conversation">
      <header class="conversation-header">
        <a href="/chat" class="button-link chat-back">
          ← {t('chat.back')}
        </a>
        <h2>
          {title} {other && <PresenceDot state={presence.get(other.id)} />}
        </h2>
        {conversation.kind !== 'direct' && <span class="muted small">{t('group.members', { count: conversation.member_count })}</span>}
        <button
          type="button"
          class="button-link push-right"
          aria-pressed={conversation.muted}
          onClick={() => act(async () => setConversation(await api.muteConversation(id, !conversation.muted)))}
        >
          {conversation.muted ? t('chat.unmute') : t('chat.mute')}
        </button>
      </header>
      <div class="messages" ref={scroller} role="log" aria-label={t('chat.messagesOf', { name: title })} aria-live="polite">
        <div ref={top} />
        {hasOlder && (
          <button type="button" class="button-link" onClick={() => void loadOlder()}>
            {t('chat.older')}
          </button>
        )}
        {messages.length === 0 && pending.length === 0 && <p class="muted">{t('chat.noMessages')}</p>}
        <ol class="message-list">
          {messages.map((message) => (
            <li key={message.id} id={`message-${message.id}`} class={`message${message.author.id === me ? ' message-mine' : ''}`}>
              {message.id === firstUnread && (
                <p class="unread-divider" role="separator">
                  {t('chat.firstUnread')}
                </p>
              )}
              <Avatar name={message.author.display_name} id={message.author.id} photoUrl={message.author.photo_url} size="small" />
              <div class="message-content">
                <div class="small">
                  <a href={`/people/${message.author.id}`} class="post-author">
                    {message.author.display_name}
                  </a>{' '}
                  <time class="muted" dateTime={message.created_at}>
                    {relativeTime(language, message.created_at)}
                  </time>
                  {message.edited_at && !message.deleted && <span class="muted"> · {t('chat.edited')}</span>}
                </div>
                {message.reply_to && (
                  <blockquote class="quote">
                    <strong>{people.get(message.reply_to.author_id)?.display_name ?? ''}</strong>: {message.reply_to.deleted ? t('chat.deleted') : message.reply_to.excerpt}
                  </blockquote>
                )}
                {message.deleted ? (
                  <p class="muted">{t('chat.deleted')}</p>
                ) : editing === message.id ? (
                  <form
                    class="form wide"
                    onSubmit={(event) => {
                      event.preventDefault();
                      act(async () => {
                        replace(await api.editMessage(message.id, draft));
                        setEditing(null);
                      });
                    }}
                  >
                    <label for={`edit-${message.id}`}>{t('chat.editLabel')}</label>
                    <textarea id={`edit-${message.id}`} rows={2} value={draft} onInput={(event) => setDraft(event.currentTarget.value)} />
                    <div class="row">
                      <button type="submit">{t('common.save')}</button>
                      <button type="button" class="button-secondary" onClick={() => setEditing(null)}>
                        {t('common.cancel')}
                      </button>
                    </div>
                  </form>
                ) : (
                  // Rendered and sanitised by the server.
                  <div class="prose" dangerouslySetInnerHTML={{ __html: message.html }} />
                )}
                {!message.deleted && <Attachments files={message.attachments} />}
                {!message.deleted && (
                  <div class="message-actions">
                    {message.reactions.map((entry) => (
                      <button
                        key={entry.reaction}
                        type="button"
                        class={`reaction${message.my_reactions.includes(entry.reaction) ? ' reaction-on' : ''}`}
                        aria-pressed={message.my_reactions.includes(entry.reaction)}
                        title={t(`reaction.${entry.reaction}`)}
                        onClick={() => act(async () => replace(await api.reactToMessage(message.id, entry.reaction, !message.my_reactions.includes(entry.reaction))))}
                      >
                        <span aria-hidden="true">{REACTION_SIGNS[entry.reaction]}</span>
                        <span class="visually-hidden">{t(`reaction.${entry.reaction}`)}</span> {entry.count}
                      </button>
                    ))}
                    <details class="react-menu">
                      <summary class="button-link small">{t('chat.react')}</summary>
                      <div class="react-choices">
                        {REACTIONS.map((reaction) => (
                          <button
                            key={reaction}
                            type="button"
                            class="reaction"
                            title={t(`reaction.${reaction}`)}
                            aria-pressed={message.my_reactions.includes(reaction)}
                            onClick={(event) => {
                              (event.currentTarget.closest('details') as HTMLDetailsElement | null)?.removeAttribute('open');
                              act(async () => replace(await api.reactToMessage(message.id, reaction, !message.my_reactions.includes(reaction))));
                            }}
                          >
                            <span aria-hidden="true">{REACTION_SIGNS[reaction]}</span>
                            <span class="visually-hidden">{t(`reaction.${reaction}`)}</span>
                          </button>
                        ))}
                      </div>
                    </details>
                    <button type="button" class="button-link small" onClick={() => setReplyTo(message)}>
                      {t('chat.reply')}
                    </button>
                    {message.author.id === me && (
                      <>
                        <button
                          type="button"
                          class="button-link small"
                          onClick={() => {
                            setDraft(message.body);
                            setEditing(message.id);
                          }}
                        >
                          {t('chat.edit')}
                        </button>
                        <button
                          type="button"
                          class="button-link small"
                          onClick={() => {
                            if (!confirm(t('chat.confirmDelete'))) return;
                            act(async () => {
                              await api.deleteMessage(message.id);
                              setMessages((current) => current.map((other) => (other.id === message.id ? { ...other, deleted: true, body: '', html: '', attachments: [] } : other)));
                            });
                          }}
                        >
                          {t('chat.delete')}
                        </button>
                      </>
                    )}
                  </div>
                )}
                {message.id === mineLast?.id && seen.length > 0 && (
                  <p class="muted small seen">{conversation.kind === 'direct' ? t('chat.seen') : t('chat.seenBy', { names: seen.map((member) => member.person.display_name).join(', ') })}</p>
                )}
              </div>
            </li>
          ))}
          {pending.map((item) => (
            <li key={item.clientId} class="message message-mine message-pending">
              <div class="message-content">
                <p>{item.body}</p>
                {item.failed ? (
                  <p class="small">
                    {t('chat.failed')}{' '}
                    <button type="button" class="button-link" onClick={() => sendPending(item)}>
                      {t('chat.retry')}
                    </button>
                  </p>
                ) : (
                  <p class="muted small">{t('chat.sending')}</p>
                )}
              </div>
            </li>
          ))}
        </ol>
        {hasNewer && (
          <button type="button" class="button-link" onClick={() => void open()}>
            {t('chat.newer')}
          </button>
        )}
      </div>
      <p class="muted small typing" aria-live="polite">
        {typingLine(typingNames, t)}
      </p>
      {error !== null && <ErrorMessage error={error} />}
      <form
        class="chat-composer"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        {replyTo && (
          <p class="small reply-bar">
            {t('chat.replyingTo', { name: replyTo.author.display_name })}{' '}
            <button type="button" class="button-link" onClick={() => setReplyTo(null)}>
              {t('common.cancel')}
            </button>
          </p>
        )}
        <label class="visually-hidden" for="chat-composer">
          {t('chat.composer')}
        </label>
        <MentionField
          id="chat-composer"
          rows={2}
          value={body}
          placeholder={t('chat.placeholder', { name: title })}
          onValue={(value) => {
            setBody(value);
            // Others hear of it at most every 3 seconds.
            if (value !== '' && Date.now() - lastTyped.current > 3_000) {
              lastTyped.current = Date.now();
              send({ type: 'typing', conversation_id: id });
            }
          }}
          onKey={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              submit();
            }
          }}
        />
        <FileChips files={uploads.files} onChange={uploads.setFiles} />
        <div class="row">
          <AddFiles onFiles={(chosen) => void uploads.upload(chosen)} />
          <button type="submit" class="push-right" disabled={uploads.uploading > 0 || (body.trim() === '' && uploads.files.length === 0)}>
            {t('chat.send')}
          </button>
        </div>
      </form>
    </div>
  );
}
