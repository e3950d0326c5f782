import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
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
import { SearchPage } from './screens/SearchPage';
import { ProfilePage } from './screens/ProfilePage';
import { EditProfilePage } from './screens/EditProfilePage';
import { AdminPage } from './screens/AdminPage';

/** Pages anyone may see; every other page needs a session. */
const PUBLIC_PATHS = ['/login', '/setup'];

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

  const signOut = useCallback(
    async (reason: 'expired' | 'logout' = 'logout') => {
      if (reason === 'logout') await api.logout().catch(() => undefined);
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
      <Shell>
        <ErrorBoundary>
          <Router>
            <Route path="/login" component={LoginPage} />
            <Route path="/setup" component={SetupPage} />
            <Route path="/" component={Home} />
            <Route path="/search" component={SearchPage} />
            <Route path="/people/:id" component={ProfilePage} />
            <Route path="/me/edit" component={EditProfilePage} />
            <Route path="/admin" component={AdminPage} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </Shell>
    </SessionContext.Provider>
  );
}

function Shell({ children }: { children: preact.ComponentChildren }) {
  const { t, language, setLanguage } = useI18n();
  const { person, signOut } = useSession();
  const [languageError, setLanguageError] = useState<unknown>(null);
  return (
    <>
      <a class="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          {t('app.name')}
        </a>
        {person && <SearchBox />}
        <nav class="topnav" aria-label={t('app.name')}>
          {person && <a href={`/people/${person.id}`}>{t('nav.me')}</a>}
          {person?.role === 'admin' && <a href="/admin">{t('nav.admin')}</a>}
          <label class="visually-hidden" for="language">
            {t('nav.language')}
          </label>
          <select
            id="language"
            value={language}
            onChange={(event) => {
              const chosen = event.currentTarget.value as Language;
              setLanguage(chosen);
              // Remembered for the person too, so their other devices follow; if that fails the
              // choice still holds on this one, and the header says why it was not saved.
              setLanguageError(null);
              if (person) void api.setLanguage(chosen).catch(setLanguageError);
            }}
          >
            {LANGUAGES.map((code) => (
              <option key={code} value={code}>
                {code === 'nl' ? 'Nederlands' : 'English'}
              </option>
            ))}
          </select>
          {person && (
            <button type="button" class="button-link" onClick={() => void signOut('logout')}>
              {t('nav.logout')}
            </button>
          )}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {languageError !== null && <ErrorMessage error={languageError} />}
        {children}
      </main>
    </>
  );
}

function Home() {
  const { t } = useI18n();
  const { person } = useSession();
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">{person ? person.display_name : t('app.name')}</h1>
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
