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

/** Writes a post: Markdown with a preview, @mentions completed from people search, files by
 * choosing or dropping them. */
export function Composer({ groupId, onPosted }: { groupId: string; onPosted: (post: Post) => void }) {
  const { t, language } = useI18n();
  const [body, setBody] = useState('');
  const [preview, setPreview] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [people, setPeople] = useState<PersonCard[]>([]);
  const [active, setActive] = useState(0);
  const key = useRef(crypto.randomUUID());
  const area = useRef<HTMLTextAreaElement>(null);
  const latest = useMemo(() => new Latest(), []);
  const { files, setFiles, uploading, upload } = useUploads([], setError);

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
    const caret = area.current?.selectionStart ?? body.length;
    const next = `${body.slice(0, mention.start)}<@${person.id}> ${body.slice(caret)}`;
    setBody(next);
    setMention(null);
    area.current?.focus();
  };

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

  const listId = `mentions-${groupId}`;
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
        <div class="mention-anchor">
          <textarea
            id={`composer-${groupId}`}
            ref={area}
            rows={4}
            value={body}
            placeholder={t('composer.placeholder')}
            role="combobox"
            aria-expanded={people.length > 0}
            aria-controls={listId}
            aria-autocomplete="list"
            onInput={(event) => {
              const text = event.currentTarget.value;
              setBody(text);
              setMention(mentionAt(text, event.currentTarget.selectionStart));
            }}
            onKeyDown={(event) => {
              if (people.length === 0) return;
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
