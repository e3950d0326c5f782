import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage } from '../components/ErrorMessage';

export function LoginPage() {
  const { t } = useI18n();
  const { query, route } = useLocation();
  const { signedIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(email, password);
      signedIn(answer.person);
      const next = query.next && query.next.startsWith('/') && !query.next.startsWith('//') ? query.next : '/';
      route(next, true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow" aria-labelledby="login-title">
      <h1 id="login-title">{t('login.title')}</h1>
      {query.reason === 'expired' && (
        <p class="notice" role="status">
          {t('login.expired')}
        </p>
      )}
      {query.reason === 'logout' && (
        <p class="notice" role="status">
          {t('login.loggedOut')}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <form onSubmit={submit} class="form">
        <label for="login-email">{t('login.email')}</label>
        <input
          id="login-email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        <label for="login-password">{t('login.password')}</label>
        <input
          id="login-password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {t('login.submit')}
        </button>
      </form>
    </section>
  );
}
