import { useEffect, useRef, useState } from 'preact/hooks';
import { useLiveFrames } from '../lib/LiveContext';
import { api, REACTIONS, type Attachment, type Comment, type Post, type Reaction } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { Avatar } from '../components/Avatar';
import { ErrorMessage } from '../components/ErrorMessage';
import { fileSize, relativeTime } from '../lib/time';
import { AddFiles, FileChips, useUploads } from './Files';
import { CommentForm } from './CommentForm';

export const REACTION_SIGNS: Record<Reaction, string> = {
  like: '👍',
  love: '❤️',
  laugh: '😄',
  celebrate: '🎉',
  insightful: '💡',
  sad: '😢',
};

export function Attachments({ files }: { files: Attachment[] }) {
  const { language } = useI18n();
  if (files.length === 0) return null;
  const images = files.filter((file) => file.kind === 'image');
  const others = files.filter((file) => file.kind !== 'image');
  return (
    <div class="attachments">
      {images.length > 0 && (
        <div class="attachment-images">
          {images.map((file) => (
            <a key={file.id} href={file.url} target="_blank" rel="noopener">
              <img src={file.thumbnail_url ?? file.url} alt={file.name} loading="lazy" width={file.width ?? undefined} height={file.height ?? undefined} />
            </a>
          ))}
        </div>
      )}
      {others.length > 0 && (
        <ul class="attachment-files">
          {others.map((file) => (
            <li key={file.id}>
              <a href={file.url} download={file.name}>
                {file.name}
              </a>{' '}
              <span class="muted">{fileSize(language, file.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** One post: its text and files, reactions, comments, and what the reader may do with it. */
export function PostCard({
  post,
  groupName,
  canModerate = false,
  onChanged,
}: {
  post: Post;
  /** Shown when the post appears outside its group (home, profiles, search). */
  groupName?: string | undefined;
  canModerate?: boolean;
  onChanged?: (post: Post | null) => void;
}) {
  const { t, language } = useI18n();
  const { person } = useSession();
  const [current, setCurrent] = useState(post);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(post.body);
  const [showComments, setShowComments] = useState(false);
  const [gone, setGone] = useState(false);
  const uploads = useUploads(post.attachments, setError);
  const mine = person?.id === current.author.id;

  const update = (next: Post | null) => {
    if (next) setCurrent(next);
    onChanged?.(next);
  };
  // Someone reacted, commented or edited: the post as it is now (a burst read once).
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (refresh.current !== null) clearTimeout(refresh.current);
  }, []);
  useLiveFrames((frame) => {
    if (!('post_id' in frame) || frame.post_id !== current.id || frame.type === 'post.created') return;
    if (refresh.current !== null) clearTimeout(refresh.current);
    refresh.current = setTimeout(() => {
      refresh.current = null;
      api.post(current.id).then(
        (fresh) => setCurrent((shown) => (editing ? { ...fresh, body: shown.body } : fresh)),
        (failure: unknown) => {
          if (failure instanceof Error && 'status' in failure && failure.status === 404) setGone(true);
        },
      );
    }, 150);
  });
  const act = (work: () => Promise<void>) => {
    setError(null);
    work().catch(setError);
  };
  const toggle = (reaction: Reaction) =>
    act(async () => {
      const on = !current.my_reactions.includes(reaction);
      const summary = await api.react(current.id, reaction, on);
      update({ ...current, reactions: summary.reactions, my_reactions: summary.my_reactions });
    });

  if (gone) return null;
  if (current.deleted) {
    return (
      <article class="post post-deleted">
        <p class="muted">{t('post.deleted')}</p>
      </article>
    );
  }
  return (
    <article class="post" aria-labelledby={`post-${current.id}-author`}>
      <header class="post-header">
        <Avatar name={current.author.display_name} id={current.author.id} photoUrl={current.author.photo_url} size="small" />
        <div>
          <a id={`post-${current.id}-author`} class="post-author" href={`/people/${current.author.id}`}>
            {current.author.display_name}
          </a>
          {groupName && (
            <>
              {' '}
              <span class="muted">{t('post.in')}</span> <a href={`/groups/${current.group_id}`}>{groupName}</a>
            </>
          )}
          <div class="muted small">
            <a class="muted" href={`/posts/${current.id}`}>
              <time dateTime={current.created_at}>{relativeTime(language, current.created_at)}</time>
            </a>
            {current.edited_at && ` · ${t('post.edited')}`}
            {current.pinned && ` · ${t('post.pinned')}`}
          </div>
        </div>
      </header>
      {editing ? (
        <form
          class="form wide"
          onSubmit={(event) => {
            event.preventDefault();
            act(async () => {
              update(await api.editPost(current.id, draft, uploads.files.map((file) => file.id)));
              setEditing(false);
            });
          }}
        >
          <label for={`edit-${current.id}`}>{t('post.editLabel')}</label>
          <textarea id={`edit-${current.id}`} rows={4} value={draft} onInput={(event) => setDraft(event.currentTarget.value)} />
          <FileChips files={uploads.files} onChange={uploads.setFiles} />
          {uploads.uploading > 0 && <p role="status">{t('composer.uploading')}</p>}
          <div class="row">
            <AddFiles onFiles={(chosen) => void uploads.upload(chosen)} />
            <button type="submit" disabled={uploads.uploading > 0}>{t('common.save')}</button>
            <button type="button" class="button-secondary" onClick={() => setEditing(false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : (
        // Rendered and sanitised by the server.
        <div class="post-body prose" dangerouslySetInnerHTML={{ __html: current.body_html }} />
      )}
      <Attachments files={current.attachments} />
      <div class="reactions" role="group" aria-label={t('post.reactions')}>
        {REACTIONS.map((reaction) => {
          const count = current.reactions.find((entry) => entry.reaction === reaction)?.count ?? 0;
          const pressed = current.my_reactions.includes(reaction);
          return (
            <button
              key={reaction}
              type="button"
              class={`reaction${pressed ? ' reaction-on' : ''}`}
              aria-pressed={pressed}
              title={t(`reaction.${reaction}`)}
              onClick={() => toggle(reaction)}
            >
              <span aria-hidden="true">{REACTION_SIGNS[reaction]}</span>
              <span class="visually-hidden">{t(`reaction.${reaction}`)}</span>
              {count > 0 && ` ${count}`}
            </button>
          );
        })}
      </div>
      <div class="post-actions">
        <button type="button" class="button-link" aria-expanded={showComments} onClick={() => setShowComments(!showComments)}>
          {t('post.comments', { count: current.comment_count })}
        </button>
        {mine && (
          <button type="button" class="button-link" onClick={() => { setDraft(current.body); uploads.setFiles(current.attachments); setEditing(true); }}>
            {t('post.edit')}
          </button>
        )}
        {(mine || canModerate) && (
          <button
            type="button"
            class="button-link"
            onClick={() => {
              if (!confirm(t('post.confirmDelete'))) return;
              act(async () => {
                await api.deletePost(current.id);
                // With comments it keeps its place as "deleted"; without, it is gone.
                if (current.comment_count > 0) update({ ...current, deleted: true, body_html: '', attachments: [] });
                else {
                  setGone(true);
                  update(null);
                }
              });
            }}
          >
            {t('post.delete')}
          </button>
        )}
        {canModerate && (
          <button type="button" class="button-link" onClick={() => act(async () => update(await api.pin(current.id, !current.pinned)))}>
            {current.pinned ? t('post.unpin') : t('post.pin')}
          </button>
        )}
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {showComments && (
        <Comments postId={current.id} onAdded={() => update({ ...current, comment_count: current.comment_count + 1 })} />
      )}
    </article>
  );
}

function Comments({ postId, onAdded }: { postId: string; onAdded: () => void }) {
  const { t, language } = useI18n();
  const [items, setItems] = useState<Comment[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [replyTo, setReplyTo] = useState<Comment | null>(null);
  const [arrivals, setArrivals] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    api.comments(postId, controller.signal).then((page) => setItems(page.items), setError);
    return () => controller.abort();
  }, [postId, arrivals]);
  useLiveFrames((frame) => {
    if (frame.type === 'comment.created' && frame.post_id === postId && !items?.some((comment) => comment.id === frame.comment_id))
      setArrivals((count) => count + 1);
  });
  return (
    <section class="comments" aria-label={t('post.commentsTitle')}>
      {error !== null && <ErrorMessage error={error} />}
      <ul class="comment-list">
        {(items ?? []).map((comment) => (
          <li key={comment.id} class="comment">
            <Avatar name={comment.author.display_name} id={comment.author.id} photoUrl={comment.author.photo_url} size="small" />
            <div>
              <a href={`/people/${comment.author.id}`} class="post-author">
                {comment.author.display_name}
              </a>{' '}
              <time class="muted small" dateTime={comment.created_at}>
                {relativeTime(language, comment.created_at)}
              </time>
              {comment.reply_to && (
                <blockquote class="quote">
                  <strong>{comment.reply_to.author.display_name}</strong>: {comment.reply_to.excerpt}
                </blockquote>
              )}
              {comment.deleted ? (
                <p class="muted">{t('post.commentDeleted')}</p>
              ) : (
                <div class="prose" dangerouslySetInnerHTML={{ __html: comment.body_html }} />
              )}
              <Attachments files={comment.attachments} />
              <button type="button" class="button-link small" onClick={() => setReplyTo(comment)}>
                {t('post.reply')}
              </button>
            </div>
          </li>
        ))}
      </ul>
      <CommentForm
        inputId={`comment-${postId}`}
        send={(body) =>
          api.comment(postId, body, replyTo?.id).then((comment) => {
            setItems([...(items ?? []), comment]);
            setReplyTo(null);
            onAdded();
          })
        }
      >
        {replyTo && (
          <p class="small">
            {t('post.replyingTo', { name: replyTo.author.display_name })}{' '}
            <button type="button" class="button-link" onClick={() => setReplyTo(null)}>
              {t('common.cancel')}
            </button>
          </p>
        )}
      </CommentForm>
    </section>
  );
}
