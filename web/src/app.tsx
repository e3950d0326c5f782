import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { api, type Person } from './api/client';
import { onSessionExpired } from './api/http';
import {
  I18nContext,
  LANGUAGES,
  initialLanguage,
  rememberLanguage,
  translator,
  useI18n,
  type Language,
} from './i18n';
import { SessionContext, useSession } from './session';
import { SearchBox } from './components/SearchBox';
import { ErrorMessage, Loading } from './components/ErrorMessage';
import { LoginPage } from './screens/LoginPage';
import { SetupPage } from './screens/SetupPage';
import { SettingsPage } from './screens/SettingsPage';
import { ForgotPasswordPage, ResetPasswordPage, WelcomePage } from './screens/PasswordPages';
import { SearchPage } from './screens/SearchPage';
import { ProfilePage } from './screens/ProfilePage';
import { EditProfilePage } from './screens/EditProfilePage';
import { AdminPage } from './screens/AdminPage';
import { GroupPage, GroupsPage, HomePage, NotificationsPage, PostPage } from './social/Pages';
import { AnnouncementComposerPage, AnnouncementPage, AnnouncementsPage, AnnouncementStatsPage } from './social/Announcements';
import { Avatar } from './components/Avatar';
import { LiveProvider, useLive, useLiveFrames, useOnResync } from './lib/LiveContext';
import { ChatPage } from './chat/ChatPage';

/** Pages anyone may see; every other page needs a session. */
const PUBLIC_PATHS = ['/login', '/setup', '/forgot', '/reset', '/welcome'];

export function App() {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const setLanguage = useCallback((next: Language) => {
    rememberLanguage(next);
    setLanguageState(next);
  }, []);
  const i18n = useMemo(() => ({ language, t: translator(language), setLanguage }), [language, setLanguage]);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  return (
    <I18nContext.Provider value={i18n}>
      <LocationProvider>
        <SessionRoot />
      </LocationProvider>
    </I18nContext.Provider>
  );
}

function SessionRoot() {
  const { path, url, route } = useLocation();
  const [person, setPerson] = useState<Person | null>(null);
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const isPublic = PUBLIC_PATHS.includes(path);

  useEffect(() => {
    const controller = new AbortController();
    api
      .me(controller.signal)
      .then(setPerson)
      .catch((failure: unknown) => {
        if (!(failure instanceof Error && 'status' in failure && failure.status === 401)) setError(failure);
      })
      .finally(() => setChecked(true));
    return () => controller.abort();
  }, []);

  // Logging out ends the session, which closes the live socket with "session ended": that is
  // the logout itself, not an expiry.
  const leaving = useRef(false);
  useEffect(() => {
    if (person !== null) leaving.current = false;
  }, [person?.id]);
  const signOut = useCallback(
    async (reason: 'expired' | 'logout' = 'logout') => {
      if (reason === 'logout') {
        leaving.current = true;
        await api.logout().catch(() => undefined);
      }
      setPerson(null);
      route(`/login?reason=${reason}`, true);
    },
    [route],
  );

  useEffect(
    () =>
      onSessionExpired(() => {
        setPerson(null);
        route(`/login?reason=expired&next=${encodeURIComponent(url)}`, true);
      }),
    [route, url],
  );

  useEffect(() => {
    if (checked && person === null && !isPublic && error === null) {
      route(`/login?next=${encodeURIComponent(url)}`, true);
    }
  }, [checked, person, isPublic, error]);

  // A language chosen on another device wins over this browser's guess.
  const { setLanguage } = useI18n();
  useEffect(() => {
    if (person?.language) setLanguage(person.language);
  }, [person?.id, person?.language]);

  const session = useMemo(() => ({ person, signedIn: setPerson, signOut }), [person, signOut]);

  if (!checked) return <Loading />;
  if (error !== null && !isPublic) return <ErrorMessage error={error} onRetry={() => location.reload()} />;
  return (
    <SessionContext.Provider value={session}>
      <LiveProvider
        personId={person?.id ?? null}
        onSignedOut={() => {
          if (!leaving.current) void signOut('expired');
        }}
      >
      <Shell>
        <ErrorBoundary>
          <Router>
            <Route path="/login" component={LoginPage} />
            <Route path="/setup" component={SetupPage} />
            <Route path="/forgot" component={ForgotPasswordPage} />
            <Route path="/reset" component={ResetPasswordPage} />
            <Route path="/welcome" component={WelcomePage} />
            <Route path="/" component={person ? HomePage : Welcome} />
            <Route path="/groups" component={GroupsPage} />
            <Route path="/groups/:id" component={GroupPage} />
            <Route path="/posts/:id" component={PostPage} />
            <Route path="/notifications" component={NotificationsPage} />
            <Route path="/announcements" component={AnnouncementsPage} />
            <Route path="/announcements/new" component={AnnouncementComposerPage} />
            <Route path="/announcements/:id" component={AnnouncementPage} />
            <Route path="/announcements/:id/stats" component={AnnouncementStatsPage} />
            <Route path="/chat" component={ChatPage} />
            <Route path="/chat/:id" component={ChatPage} />
            <Route path="/search" component={SearchPage} />
            <Route path="/people/:id" component={ProfilePage} />
            <Route path="/me/edit" component={EditProfilePage} />
            <Route path="/admin" component={AdminPage} />
            <Route path="/settings" component={SettingsPage} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </Shell>
      </LiveProvider>
    </SessionContext.Provider>
  );
}

/** How many notifications are unread: asked on every page change and after a `resync`, kept
 *  current by the socket in between. */
function useUnread(path: string, signedIn: boolean): number {
  const [unread, setUnread] = useState(0);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    if (!signedIn) return;
    const controller = new AbortController();
    api
      .notifications(controller.signal)
      .then((page) => setUnread(page.unread))
      .catch(() => undefined);
    return () => controller.abort();
  }, [path, signedIn, asked]);
  useOnResync(() => setAsked((count) => count + 1));
  useLiveFrames((frame) => {
    if (frame.type === 'notifications.changed') setUnread(frame.unread);
    // Each of these comes with one new notification of its own.
    else if (
      frame.type === 'announcement.published' ||
      frame.type === 'announcement.reminder' ||
      (frame.type === 'announcement.updated' && frame.material)
    )
      setUnread((count) => count + 1);
  });
  return unread;
}

/** Unread chat messages over all my conversations (muted ones left out): asked again when a
 *  message arrives or I read somewhere. */
function useChatUnread(signedIn: boolean, me: string | undefined): number {
  const [unread, setUnread] = useState(0);
  const [asked, setAsked] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!signedIn) return;
    const controller = new AbortController();
    api
      .conversations(controller.signal)
      .then((list) => setUnread(list.unread_total))
      .catch(() => undefined);
    return () => controller.abort();
  }, [signedIn, asked]);
  const again = () => {
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      setAsked((count) => count + 1);
    }, 300);
  };
  useOnResync(again);
  useLiveFrames((frame) => {
    if ((frame.type === 'message.created' && frame.message.author_id !== me) || (frame.type === 'conversation.read' && frame.person_id === me) || frame.type === 'message.deleted' || frame.type === 'conversation.changed')
      again();
  });
  return unread;
}

/** A quiet line while the live connection is down (after it has been up). */
function ConnectionBanner() {
  const { t } = useI18n();
  const { state, wasLive } = useLive();
  if (!wasLive || state === 'live' || state === 'signed-out') return null;
  return (
    <div class="live-banner" role="status">
      {t('live.offline')}
    </div>
  );
}

function Shell({ children }: { children: preact.ComponentChildren }) {
  const { t, language, setLanguage } = useI18n();
  const { person, signOut } = useSession();
  const { path } = useLocation();
  const [languageError, setLanguageError] = useState<unknown>(null);
  const unread = useUnread(path, person !== null);
  const chatUnread = useChatUnread(person !== null, person?.id);
  const current = (prefix: string) =>
    (prefix === '/' ? path === '/' : path.startsWith(prefix)) ? 'page' : undefined;
  return (
    <>
      <a class="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          {t('app.name')}
        </a>
        {person && (
          <nav class="mainnav" aria-label={t('app.name')}>
            <a href="/" aria-current={current('/')}>
              {t('nav.home')}
            </a>
            <a href="/groups" aria-current={current('/groups')}>
              {t('nav.groups')}
            </a>
            <a href="/search" aria-current={current('/search')}>
              {t('nav.people')}
            </a>
            <a href="/chat" aria-current={current('/chat')}>
              {t('nav.chat')}
              {chatUnread > 0 && (
                <span class="badge badge-inline">
                  {chatUnread > 99 ? '99+' : chatUnread}
                  <span class="visually-hidden"> {t('chat.unread', { count: chatUnread })}</span>
                </span>
              )}
            </a>
          </nav>
        )}
        {person && <SearchBox />}
        <div class="topnav">
          {person && (
            <a
              class="bell"
              href="/notifications"
              aria-current={current('/notifications')}
              aria-label={unread > 0 ? t('nav.notificationsUnread', { count: unread }) : t('nav.notifications')}
            >
              <span aria-hidden="true">🔔</span>
              {unread > 0 && (
                <span class="badge" aria-hidden="true">
                  {unread > 99 ? '99+' : unread}
                </span>
              )}
            </a>
          )}
          {person ? (
            <details class="menu" key={path}>
              <summary>
                <Avatar name={person.display_name} id={person.id} size="small" />
                <span class="visually-hidden">{t('nav.menu', { name: person.display_name })}</span>
              </summary>
              <div class="menu-panel">
                <a href={`/people/${person.id}`}>{t('nav.me')}</a>
                <a href="/settings">{t('nav.settings')}</a>
                <a href="/announcements">{t('nav.announcements')}</a>
                {(person.role === 'hr' || person.role === 'admin') && <a href="/announcements/new">{t('ann.new')}</a>}
                {person.role === 'admin' && <a href="/admin">{t('nav.admin')}</a>}
                <LanguageChoice
                  language={language}
                  onChange={(chosen) => {
                    setLanguage(chosen);
                    // Remembered for the person too, so their other devices follow; if that fails
                    // the choice still holds on this one, and the header says why.
                    setLanguageError(null);
                    void api.setLanguage(chosen).catch(setLanguageError);
                  }}
                />
                <button type="button" class="button-link" onClick={() => void signOut('logout')}>
                  {t('nav.logout')}
                </button>
              </div>
            </details>
          ) : (
            <LanguageChoice language={language} onChange={setLanguage} />
          )}
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        {languageError !== null && <ErrorMessage error={languageError} />}
        {children}
      </main>
    </>
  );
}

function LanguageChoice({ language, onChange }: { language: Language; onChange: (language: Language) => void }) {
  const { t } = useI18n();
  return (
    <>
      <label class="visually-hidden" for="language">
        {t('nav.language')}
      </label>
      <select id="language" value={language} onChange={(event) => onChange(event.currentTarget.value as Language)}>
        {LANGUAGES.map((code) => (
          <option key={code} value={code}>
            {code === 'nl' ? 'Nederlands' : 'English'}
          </option>
        ))}
      </select>
    </>
  );
}

function Welcome() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">{t('app.name')}</h1>
      <p>{t('search.hint')}</p>
    </section>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <h1>{t('common.notFound')}</h1>
      <a href="/">{t('nav.home')}</a>
    </section>
  );
}
