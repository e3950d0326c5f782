import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type OrgChart, type Person, type PersonCard, type Profile } from '../api/client';
import { ActivationButton, RoleSelect } from '../components/PersonAdmin';
import { Latest } from '../lib/latest';
import { PostsBy } from '../social/Pages';
import { formatDate, useI18n } from '../i18n';
import { useSession } from '../session';
import { Avatar } from '../components/Avatar';
import { ErrorMessage, Loading } from '../components/ErrorMessage';

/** A colleague's profile with their place in the organisation. */
export function ProfilePage({ id }: { id: string }) {
  const { t, language } = useI18n();
  const { person: me } = useSession();
  const { route } = useLocation();
  const [profile, setProfile] = useState<Profile | null>(null);
  const [org, setOrg] = useState<OrgChart | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [adminError, setAdminError] = useState<unknown>(null);
  const latest = useMemo(() => new Latest(), []);

  useEffect(() => {
    setError(null);
    setProfile(null);
    setOrg(null);
    latest
      .run((signal) => Promise.all([api.person(id, signal), api.org(id, signal)]))
      .then((answer) => {
        if (answer === undefined) return;
        setProfile(answer[0]);
        setOrg(answer[1]);
      })
      .catch(setError);
    return () => latest.cancel();
  }, [id, attempt]);

  const administer = async (action: () => Promise<Person>) => {
    setAdminError(null);
    try {
      const updated = await action();
      setProfile((shown) => (shown ? { ...shown, role: updated.role, active: updated.active } : shown));
    } catch (failure) {
      setAdminError(failure);
    }
  };

  if (error !== null) return <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (profile === null || org === null) return <Loading />;

  // The chain comes nearest manager first; the breadcrumb reads from the top down.
  const chain = [...org.managers].reverse();
  return (
    <article class="profile" aria-labelledby="profile-name">
      {chain.length > 0 && (
        <nav aria-label={t('profile.chain')} class="breadcrumb">
          <ol>
            {chain.map((manager) => (
              <li key={manager.id}>
                <a href={`/people/${manager.id}`}>{manager.display_name}</a>
              </li>
            ))}
            <li aria-current="page">{profile.display_name}</li>
          </ol>
        </nav>
      )}
      <header class="profile-header">
        <Avatar
          name={profile.display_name}
          id={profile.id}
          photoUrl={profile.photo_url}
          size="large"
          alt={t('profile.photoOf', { name: profile.display_name })}
        />
        <div>
          <h1 id="profile-name">{profile.display_name}</h1>
          {profile.title && <p class="profile-title">{profile.title}</p>}
          <p class="profile-place">{[profile.department, profile.location].filter(Boolean).join(' · ')}</p>
          {profile.start_date && (
            <p class="profile-since">{t('profile.since', { date: formatDate(language, profile.start_date) })}</p>
          )}
          {me?.id === profile.id && (
            <a class="button-secondary" href="/me/edit">
              {t('profile.edit')}
            </a>
          )}
          {me && me.id !== profile.id && profile.active && (
            <button
              type="button"
              onClick={() => api.startConversation([profile.id]).then((conversation) => route(`/chat/${conversation.id}`), setAdminError)}
            >
              {t('chat.message')}
            </button>
          )}
        </div>
      </header>

      {me?.role === 'admin' && me.id !== profile.id && (
        <section class="panel" aria-labelledby="profile-admin-title">
          <h2 id="profile-admin-title">{t('profile.admin')}</h2>
          {adminError !== null && <ErrorMessage error={adminError} />}
          <p>
            <RoleSelect person={profile} onChange={(action) => void administer(action)} />{' '}
            {profile.active ? t('admin.people.active') : t('admin.people.inactive')}{' '}
            <ActivationButton person={profile} onChange={(action) => void administer(action)} />
          </p>
        </section>
      )}
      <div class="profile-body">
        <section aria-labelledby="contact-title">
          <h2 id="contact-title">{t('profile.contact')}</h2>
          <dl>
            {profile.email && (
              <>
                <dt>{t('profile.email')}</dt>
                <dd>
                  <a href={`mailto:${profile.email}`}>{profile.email}</a>
                </dd>
              </>
            )}
            {profile.phone && (
              <>
                <dt>{t('profile.phone')}</dt>
                <dd>
                  <a href={`tel:${profile.phone.replace(/[^+\d]/g, '')}`}>{profile.phone}</a>
                </dd>
              </>
            )}
            {profile.manager && (
              <>
                <dt>{t('profile.manager')}</dt>
                <dd>
                  <a href={`/people/${profile.manager.id}`}>{profile.manager.display_name}</a>
                </dd>
              </>
            )}
          </dl>
          {profile.skills.length > 0 && <TagList title={t('profile.skills')} values={profile.skills} />}
          {profile.languages.length > 0 && <TagList title={t('profile.languages')} values={profile.languages} />}
        </section>

        {profile.bio_html && (
          <section aria-labelledby="about-title">
            <h2 id="about-title">{t('profile.about')}</h2>
            {/* Rendered and sanitised by the server (an allow-list of Markdown's HTML). */}
            <div class="markdown" dangerouslySetInnerHTML={{ __html: profile.bio_html }} />
          </section>
        )}

        <PeopleList title={t('profile.reports')} empty={t('profile.noReports')} people={org.reports} />
        <PeopleList title={t('profile.peers')} empty={t('profile.noPeers')} people={org.peers} />
      </div>
      <PostsBy personId={profile.id} />
    </article>
  );
}

function TagList({ title, values }: { title: string; values: string[] }) {
  return (
    <>
      <h3>{title}</h3>
      <ul class="tags">
        {values.map((value) => (
          <li key={value} class="tag">
            {value}
          </li>
        ))}
      </ul>
    </>
  );
}

function PeopleList({ title, empty, people }: { title: string; empty: string; people: PersonCard[] }) {
  const headingId = `list-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>
        {title} <span class="count">({people.length})</span>
      </h2>
      {people.length === 0 ? (
        <p class="empty">{empty}</p>
      ) : (
        <ul class="cards compact">
          {people.map((person) => (
            <li key={person.id} class="card">
              <Avatar name={person.display_name} id={person.id} photoUrl={person.photo_url} size="small" />
              <div>
                <a href={`/people/${person.id}`} class="card-name">
                  {person.display_name}
                </a>
                <p class="card-detail">{person.title ?? ''}</p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
