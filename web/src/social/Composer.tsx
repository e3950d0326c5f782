import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type PersonCard, type Post } from '../api/client';
import { useI18n } from '../i18n';
import { ErrorMessage } from '../components/ErrorMessage';
import { Latest } from '../lib/latest';
import { AddFiles, FileChips, useUploads } from './Files';
import { Attachments } from './PostCard';

/** The word being typed after an `@`, if the caret is in one. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\p{L}\p{N}'-]{1,40})$/u.exec(before);
  if (!match) return null;
  const query = match[2] ?? '';
  return { start: caret - query.length - 1, query };
}

/** A text area that completes `@name` into a mention (`<@id>`) from people search: arrows to
 * pick, Enter or Tab to take, Escape to leave. `onKey` sees every other key press. */
export function MentionField({
  id,
  value,
  onValue,
  rows,
  placeholder,
  onKey,
  area,
}: {
  id: string;
  value: string;
  onValue: (value: string) => void;
  rows: number;
  placeholder: string;
  onKey?: (event: KeyboardEvent) => void;
  area?: { current: HTMLTextAreaElement | null };
}) {
  const { t } = useI18n();
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [people, setPeople] = useState<PersonCard[]>([]);
  const [active, setActive] = useState(0);
  const own = useRef<HTMLTextAreaElement>(null);
  const field = area ?? own;
  const latest = useMemo(() => new Latest(), []);

  useEffect(() => {
    if (!mention) {
      setPeople([]);
      return;
    }
    latest
      .run((signal) => api.search({ q: mention.query, limit: 6 }, signal))
      .then((answer) => {
        if (answer) {
          setPeople(answer.hits);
          setActive(0);
        }
      })
      .catch(() => setPeople([]));
  }, [mention?.query]);

  const choose = (person: PersonCard) => {
    if (!mention) return;
    const caret = field.current?.selectionStart ?? value.length;
    onValue(`${value.slice(0, mention.start)}<@${person.id}> ${value.slice(caret)}`);
    setMention(null);
    field.current?.focus();
  };

  const listId = `${id}-mentions`;
  return (
    <div class="mention-anchor">
      <textarea
        id={id}
        ref={(element) => {
          field.current = element;
        }}
        rows={rows}
        value={value}
        placeholder={placeholder}
        role="combobox"
        aria-expanded={people.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        onInput={(event) => {
          const text = event.currentTarget.value;
          onValue(text);
          setMention(mentionAt(text, event.currentTarget.selectionStart));
        }}
        onKeyDown={(event) => {
          if (people.length === 0) {
            onKey?.(event);
            return;
          }
          if (event.key === 'ArrowDown') {
            event.preventDefault();
            setActive((active + 1) % people.length);
          } else if (event.key === 'ArrowUp') {
            event.preventDefault();
            setActive((active + people.length - 1) % people.length);
          } else if (event.key === 'Enter' || event.key === 'Tab') {
            const person = people[active];
            if (person) {
              event.preventDefault();
              choose(person);
            }
          } else if (event.key === 'Escape') {
            setMention(null);
          } else {
            onKey?.(event);
          }
        }}
      />
      {people.length > 0 && (
        <ul id={listId} class="mention-list" role="listbox" aria-label={t('composer.mentionList')}>
          {people.map((person, index) => (
            <li
              key={person.id}
              role="option"
              aria-selected={index === active}
              class={index === active ? 'active' : ''}
              onMouseDown={(event) => {
                event.preventDefault();
                choose(person);
              }}
            >
              {person.display_name}
              {person.department && <span class="muted small"> · {person.department}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Writes a post: Markdown with a preview, @mentions completed from people search, files by
 * choosing or dropping them. */
export function Composer({ groupId, onPosted }: { groupId: string; onPosted: (post: Post) => void }) {
  const { t, language } = useI18n();
  const [body, setBody] = useState('');
  const [preview, setPreview] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const key = useRef(crypto.randomUUID());
  const { files, setFiles, uploading, upload } = useUploads([], setError);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const post = await api.createPost(groupId, body, files.map((file) => file.id), key.current);
      key.current = crypto.randomUUID();
      setBody('');
      setFiles([]);
      setPreview(null);
      onPosted(post);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class={`composer${dragging ? ' composer-drop' : ''}`}
      onSubmit={submit}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        void upload(event.dataTransfer?.files ?? null);
      }}
    >
      <label for={`composer-${groupId}`}>{t('composer.label')}</label>
      {preview === null ? (
        <MentionField id={`composer-${groupId}`} rows={4} value={body} onValue={setBody} placeholder={t('composer.placeholder')} />
      ) : (
        <div class="post-body prose preview" aria-live="polite" dangerouslySetInnerHTML={{ __html: preview }} />
      )}
      <FileChips files={files} onChange={setFiles} />
      {preview !== null && <Attachments files={files} />}
      {uploading > 0 && <p role="status">{t('composer.uploading')}</p>}
      {error !== null && <ErrorMessage error={error} />}
      <div class="row">
        <AddFiles onFiles={(chosen) => void upload(chosen)} />
        <button
          type="button"
          class="button-secondary"
          aria-pressed={preview !== null}
          onClick={() => {
            if (preview !== null) {
              setPreview(null);
              return;
            }
            api.preview(body).then(
              (answer) => setPreview(answer.body_html),
              setError,
            );
          }}
        >
          {preview === null ? t('composer.preview') : t('composer.write')}
        </button>
        <span class="muted small">{t('composer.hint')}</span>
        <button type="submit" class="push-right" disabled={busy || uploading > 0 || (body.trim() === '' && files.length === 0)}>
          {busy ? t('composer.posting') : t('composer.post')}
        </button>
      </div>
    </form>
  );
}
