import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, type Announcement, type AnnouncementComment, type AnnouncementStats, type FacetCount } from '../api/client';
import { formatDate, useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage, Loading } from '../components/ErrorMessage';
import { Latest } from '../lib/latest';
import { relativeTime } from '../lib/time';
import { Attachments } from './PostCard';
import { CommentForm } from './CommentForm';

/** An announcement as a card: pinned on home, with "Read and understood" when it asks for it. */
export function AnnouncementCard({ announcement, onChanged }: { announcement: Announcement; onChanged?: (next: Announcement) => void }) {
  const { t, language } = useI18n();
  const [current, setCurrent] = useState(announcement);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const acknowledged = current.receipt?.acknowledged_at;
  return (
    <article class={`announcement${current.requires_ack && !acknowledged ? ' announcement-due' : ''}`} lang={current.language}>
      <p class="eyebrow">{t('ann.eyebrow')}</p>
      <h2>
        <a href={`/announcements/${current.id}`}>{current.title}</a>
      </h2>
      <p class="muted small">
        {current.author?.display_name}
        {current.published_at && ` · ${relativeTime(language, current.published_at)}`}
        {current.due_at && ` · ${t('ann.due', { date: new Date(current.due_at).toLocaleDateString(language) })}`}
      </p>
      <div class="prose" dangerouslySetInnerHTML={{ __html: current.body_html }} />
      <Attachments files={current.attachments} />
      {current.requires_ack &&
        (acknowledged ? (
          <p class="acknowledged" role="status">
            ✓ {t('ann.acknowledged')}
          </p>
        ) : (
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              setError(null);
              api
                .acknowledge(current.id)
                .then((next) => {
                  setCurrent(next);
                  onChanged?.(next);
                }, setError)
                .finally(() => setBusy(false));
            }}
          >
            {t('ann.acknowledge')}
          </button>
        ))}
      {error !== null && <ErrorMessage error={error} />}
    </article>
  );
}

export function AnnouncementPage() {
  const { t } = useI18n();
  const { params } = useRoute();
  const { person } = useSession();
  const [announcement, setAnnouncement] = useState<Announcement | null>(null);
  const [error, setError] = useState<unknown>(null);
  const id = params.id ?? '';
  useEffect(() => {
    const controller = new AbortController();
    api.announcement(id, controller.signal).then(setAnnouncement, setError);
    return () => controller.abort();
  }, [id]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!announcement) return <Loading />;
  const hr = person?.role === 'hr' || person?.role === 'admin';
  return (
    <section>
      <AnnouncementCard announcement={announcement} />
      {hr && (
        <p class="row">
          {announcement.state === 'draft' && (
            <button type="button" onClick={() => api.publish(id).then(setAnnouncement, setError)}>
              {t('ann.publish')}
            </button>
          )}
          {announcement.published_at && <a href={`/announcements/${id}/stats`}>{t('ann.stats')}</a>}
        </p>
      )}
      {announcement.comments_enabled && announcement.published_at && <AnnouncementComments id={id} hr={hr} />}
    </section>
  );
}

/** Comments under an announcement (when HR turned them on); their writers and HR remove them. */
function AnnouncementComments({ id, hr }: { id: string; hr: boolean }) {
  const { t, language } = useI18n();
  const { person } = useSession();
  const [comments, setComments] = useState<AnnouncementComment[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = (signal?: AbortSignal) => api.announcementComments(id, signal).then((page) => setComments(page.items), setError);
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [id]);
  return (
    <section aria-labelledby="ann-comments-title" class="comments">
      <h2 id="ann-comments-title">{t('post.commentsTitle')}</h2>
      {comments === null ? (
        <Loading />
      ) : (
        <ul class="comment-list">
          {comments.map((comment) => (
            <li key={comment.id} class="comment">
              {comment.deleted ? (
                <p class="muted">{t('post.commentDeleted')}</p>
              ) : (
                <>
                  <p class="small">
                    <a href={`/people/${comment.author.id}`}>{comment.author.display_name}</a>{' '}
                    <time class="muted" dateTime={comment.created_at}>
                      {relativeTime(language, comment.created_at)}
                    </time>
                  </p>
                  <div class="prose" dangerouslySetInnerHTML={{ __html: comment.body_html }} />
                  {(hr || comment.author.id === person?.id) && (
                    <button
                      type="button"
                      class="button-link"
                      onClick={() => {
                        if (window.confirm(t('ann.confirmDeleteComment'))) {
                          api.deleteAnnouncementComment(id, comment.id).then(() => load(), setError);
                        }
                      }}
                    >
                      {t('post.delete')}
                    </button>
                  )}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <CommentForm
        inputId={`ann-comment-${id}`}
        send={(body) => api.commentOnAnnouncement(id, body).then((comment) => setComments((current) => [...(current ?? []), comment]))}
      />
      {error !== null && <ErrorMessage error={error} />}
    </section>
  );
}

/** Every announcement for HR (drafts, scheduled, published, expired); for everyone else the
 * ones they received, expired ones included: the archive. */
export function AnnouncementsPage() {
  const { t, language } = useI18n();
  const { person } = useSession();
  const [items, setItems] = useState<Announcement[] | null>(null);
  const [next, setNext] = useState<string | null | undefined>(null);
  const [error, setError] = useState<unknown>(null);
  const hr = person?.role === 'hr' || person?.role === 'admin';
  const load = (cursor?: string, signal?: AbortSignal) =>
    api.announcements(cursor, signal).then((page) => {
      setItems((current) => [...(cursor ? (current ?? []) : []), ...page.items]);
      setNext(page.next_cursor);
    }, setError);
  useEffect(() => {
    const controller = new AbortController();
    void load(undefined, controller.signal);
    return () => controller.abort();
  }, []);
  return (
    <section aria-labelledby="announcements-title">
      <div class="row">
        <h1 id="announcements-title">{t('nav.announcements')}</h1>
        {hr && (
          <a class="button-secondary push-right" href="/announcements/new">
            {t('ann.new')}
          </a>
        )}
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {items === null ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">{t('ann.none')}</p>
      ) : (
        <table class="table">
          <caption class="visually-hidden">{t('nav.announcements')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('ann.title')}</th>
              <th scope="col">{t('ann.state')}</th>
              <th scope="col">{t('ann.when')}</th>
              {hr && <th scope="col">{t('ann.stats')}</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => {
              const when = item.published_at ?? item.publish_at;
              return (
                <tr key={item.id}>
                  <td>
                    <a href={`/announcements/${item.id}`}>{item.title}</a>
                    {item.requires_ack && !hr && (
                      <span class="muted small">
                        {' · '}
                        {item.receipt?.acknowledged_at ? t('ann.acknowledgedShort') : t('ann.notYet')}
                      </span>
                    )}
                  </td>
                  <td>{t(`ann.state.${item.state as 'draft' | 'scheduled' | 'published' | 'expired'}`)}</td>
                  <td>{when ? formatDate(language, when) : '—'}</td>
                  {hr && <td>{item.published_at ? <a href={`/announcements/${item.id}/stats`}>{t('ann.stats')}</a> : '—'}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" class="button-secondary" onClick={() => void load(next)}>
          {t('feed.more')}
        </button>
      )}
    </section>
  );
}

/** Departments and locations to pick from, with how many people each has. */
function useFacets() {
  const [facets, setFacets] = useState<{ department: FacetCount[]; location: FacetCount[] }>({ department: [], location: [] });
  useEffect(() => {
    const controller = new AbortController();
    api
      .search({ q: '', limit: 1 }, controller.signal)
      .then((answer) => setFacets({ department: answer.facets.department, location: answer.facets.location }))
      .catch(() => undefined);
    return () => controller.abort();
  }, []);
  return facets;
}

function Picker({ legend, values, chosen, onChange }: { legend: string; values: FacetCount[]; chosen: string[]; onChange: (next: string[]) => void }) {
  return (
    <fieldset class="picker">
      <legend>{legend}</legend>
      {values.map((value) => (
        <label key={value.value} class="check">
          <input
            type="checkbox"
            checked={chosen.includes(value.value)}
            onChange={(event) =>
              onChange(event.currentTarget.checked ? [...chosen, value.value] : chosen.filter((other) => other !== value.value))
            }
          />
          {value.value} <span class="muted small">({value.count})</span>
        </label>
      ))}
    </fieldset>
  );
}

/** HR writes an announcement: audience with a live count, acknowledgement, schedule. */
export function AnnouncementComposerPage() {
  const { t, language } = useI18n();
  const { person } = useSession();
  const { route } = useLocation();
  const facets = useFacets();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [departments, setDepartments] = useState<string[]>([]);
  const [locations, setLocations] = useState<string[]>([]);
  const [requiresAck, setRequiresAck] = useState(true);
  const [comments, setComments] = useState(true);
  const [publishAt, setPublishAt] = useState('');
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const latest = useMemo(() => new Latest(), []);
  useEffect(() => {
    latest
      .run((signal) => api.audienceCount({ departments, locations }, signal))
      .then((answer) => answer && setCount(answer.count))
      .catch(setError);
  }, [departments.join('\u0000'), locations.join('\u0000')]);
  if (person?.role !== 'hr' && person?.role !== 'admin') return <p>{t('ann.onlyHr')}</p>;

  const save = async (publish: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const created = await api.createAnnouncement({
        title,
        body,
        language,
        audience: { departments, locations },
        requires_ack: requiresAck,
        comments_enabled: comments,
        publish_at: publishAt ? new Date(publishAt).toISOString() : null,
      });
      const done = publish && !publishAt ? await api.publish(created.id) : created;
      route(`/announcements/${done.id}`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="ann-new">
      <h1 id="ann-new">{t('ann.new')}</h1>
      <form class="form wide" onSubmit={(event) => { event.preventDefault(); void save(true); }}>
        <label for="ann-title">{t('ann.title')}</label>
        <input id="ann-title" required maxLength={200} value={title} onInput={(event) => setTitle(event.currentTarget.value)} />
        <label for="ann-body">{t('ann.body')}</label>
        <textarea id="ann-body" required rows={8} value={body} onInput={(event) => setBody(event.currentTarget.value)} />
        <Picker legend={t('ann.departments')} values={facets.department} chosen={departments} onChange={setDepartments} />
        <Picker legend={t('ann.locations')} values={facets.location} chosen={locations} onChange={setLocations} />
        <p class="audience-count" role="status" aria-live="polite">
          {count === null ? t('common.loading') : t('ann.reaches', { count })}
        </p>
        <label class="check">
          <input type="checkbox" checked={requiresAck} onChange={(event) => setRequiresAck(event.currentTarget.checked)} />
          {t('ann.requiresAck')}
        </label>
        <label class="check">
          <input type="checkbox" checked={comments} onChange={(event) => setComments(event.currentTarget.checked)} />
          {t('ann.comments')}
        </label>
        <label for="ann-when">{t('ann.schedule')}</label>
        <input id="ann-when" type="datetime-local" value={publishAt} onInput={(event) => setPublishAt(event.currentTarget.value)} />
        {error !== null && <ErrorMessage error={error} />}
        <div class="row">
          <button type="submit" disabled={busy}>
            {publishAt ? t('ann.scheduleSubmit') : t('ann.publish')}
          </button>
          <button type="button" class="button-secondary" disabled={busy} onClick={() => void save(false)}>
            {t('ann.saveDraft')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Bars({ rows, label }: { rows: AnnouncementStats['by_department']; label: string }) {
  const { t } = useI18n();
  return (
    <figure class="bars">
      <figcaption>{label}</figcaption>
      <table>
        <thead>
          <tr>
            <th scope="col">{label}</th>
            <th scope="col">{t('ann.reached')}</th>
            <th scope="col">{t('ann.opened')}</th>
            <th scope="col">{t('ann.acknowledgedCount')}</th>
            <th scope="col">
              <span class="visually-hidden">{t('ann.share')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const share = row.reached === 0 ? 0 : Math.round((row.acknowledged / row.reached) * 100);
            return (
              <tr key={row.value}>
                <th scope="row">{row.value || t('ann.unknown')}</th>
                <td>{row.reached}</td>
                <td>{row.opened}</td>
                <td>{row.acknowledged}</td>
                <td class="bar-cell">
                  <span class="bar" style={{ width: `${share}%` }} aria-hidden="true" />
                  <span class="small">{share}%</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

/** HR's view of who was reached, opened and acknowledged. */
export function AnnouncementStatsPage() {
  const { t } = useI18n();
  const { params } = useRoute();
  const id = params.id ?? '';
  const [stats, setStats] = useState<AnnouncementStats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reminded, setReminded] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    api.stats(id, controller.signal).then(setStats, setError);
    return () => controller.abort();
  }, [id]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!stats) return <Loading />;
  return (
    <section aria-labelledby="stats-title">
      <h1 id="stats-title">{t('ann.stats')}</h1>
      <dl class="totals">
        <div>
          <dt>{t('ann.reached')}</dt>
          <dd>{stats.reached}</dd>
        </div>
        <div>
          <dt>{t('ann.opened')}</dt>
          <dd>{stats.opened}</dd>
        </div>
        <div>
          <dt>{t('ann.acknowledgedCount')}</dt>
          <dd>{stats.acknowledged}</dd>
        </div>
      </dl>
      <p class="row">
        <a class="button-secondary" href={`/api/v1/announcements/${id}/stats.csv`} download>
          {t('ann.csv')}
        </a>
        <button type="button" disabled={reminded} onClick={() => api.remind(id).then(() => setReminded(true), setError)}>
          {reminded ? t('ann.reminded') : t('ann.remind')}
        </button>
      </p>
      <Bars rows={stats.by_department} label={t('ann.department')} />
      <Bars rows={stats.by_location} label={t('ann.location')} />
      {stats.not_acknowledged.length > 0 && (
        <>
          <h2>{t('ann.notAcknowledged')}</h2>
          {stats.reached - stats.acknowledged > stats.not_acknowledged.length && (
            <p class="muted small">{t('ann.firstOnly', { count: stats.not_acknowledged.length })}</p>
          )}
          <ul>
            {stats.not_acknowledged.map((person) => (
              <li key={person.id}>
                <a href={`/people/${person.id}`}>{person.display_name}</a>
                {person.department && <span class="muted"> · {person.department}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
