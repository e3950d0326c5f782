import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useI18n } from '../i18n';
import { ErrorMessage } from '../components/ErrorMessage';

/** "Write a comment…" with Send, under a post or an announcement; clears itself once sent. */
export function CommentForm({
  inputId,
  send,
  children,
}: {
  inputId: string;
  send: (body: string) => Promise<unknown>;
  /** Shown above the field (e.g. what the comment replies to). */
  children?: ComponentChildren;
}) {
  const { t } = useI18n();
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="comment-form"
      onSubmit={(event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        send(body)
          .then(() => setBody(''), setError)
          .finally(() => setBusy(false));
      }}
    >
      {children}
      <label class="visually-hidden" for={inputId}>
        {t('post.writeComment')}
      </label>
      <textarea id={inputId} rows={2} placeholder={t('post.writeComment')} value={body} onInput={(event) => setBody(event.currentTarget.value)} />
      <button type="submit" disabled={busy || body.trim() === ''}>
        {t('post.send')}
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}
