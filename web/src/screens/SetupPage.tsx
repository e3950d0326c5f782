import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { useSubmit } from '../lib/useSubmit';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';

/** First run: the link Plein prints at start carries a one-time token. */
export function SetupPage() {
  const { t } = useI18n();
  const { query, route } = useLocation();
  const { signedIn } = useSession();
  const token = query.token ?? '';
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    const answer = await api.setup({ token, name, email, password });
    signedIn(answer.person);
    route('/', true);
  });

  return (
    <section class="narrow" aria-labelledby="setup-title">
      <h1 id="setup-title">{t('setup.title')}</h1>
      <p>{t('setup.intro')}</p>
      {!token && (
        <p class="notice notice-error" role="alert">
          {t('setup.noToken')}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <form onSubmit={submit} class="form">
        <Field id="setup-name" label={t('setup.name')} autocomplete="name" required value={name} onValue={setName} error={fieldError('name')} />
        <Field
          id="setup-email"
          label={t('setup.email')}
          type="email"
          autocomplete="username"
          required
          value={email}
          onValue={setEmail}
          error={fieldError('email')}
        />
        <Field
          id="setup-password"
          label={t('setup.password')}
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          value={password}
          onValue={setPassword}
          error={fieldError('password')}
        />
        <button type="submit" disabled={busy || !token}>
          {t('setup.submit')}
        </button>
      </form>
    </section>
  );
}
