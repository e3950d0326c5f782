import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { useSubmit } from '../lib/useSubmit';
import { safeNext } from '../lib/navigation';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';

export function LoginPage() {
  const { t } = useI18n();
  const { query, route } = useLocation();
  const { signedIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const answer = await api.login(email, password);
    signedIn(answer.person);
    route(safeNext(query.next), true);
  });

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
        <Field id="login-email" label={t('login.email')} type="email" autocomplete="username" required value={email} onValue={setEmail} />
        <Field
          id="login-password"
          label={t('login.password')}
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <button type="submit" disabled={busy}>
          {t('login.submit')}
        </button>
      </form>
      <p>
        <a href="/forgot">{t('login.forgot')}</a>
      </p>
    </section>
  );
}
