import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { ApiError } from '../api/http';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage } from '../components/ErrorMessage';

/** First run: the link Plein prints at start carries a one-time token. */
export function SetupPage() {
  const { t } = useI18n();
  const { query, route } = useLocation();
  const { signedIn } = useSession();
  const token = query.token ?? '';
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.setup({ token, name, email, password });
      signedIn(answer.person);
      route('/', true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const fields = error instanceof ApiError ? error.fields : {};
  const fieldError = (field: string) =>
    fields[field] ? (
      <p id={`setup-${field}-error`} class="field-error">
        {fields[field]}
      </p>
    ) : null;

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
        <label for="setup-name">{t('setup.name')}</label>
        <input
          id="setup-name"
          autocomplete="name"
          required
          value={name}
          aria-describedby={fields.name ? 'setup-name-error' : undefined}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        {fieldError('name')}
        <label for="setup-email">{t('setup.email')}</label>
        <input
          id="setup-email"
          type="email"
          autocomplete="username"
          required
          value={email}
          aria-describedby={fields.email ? 'setup-email-error' : undefined}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        {fieldError('email')}
        <label for="setup-password">{t('setup.password')}</label>
        <input
          id="setup-password"
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          value={password}
          aria-describedby={fields.password ? 'setup-password-error' : undefined}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        {fieldError('password')}
        <button type="submit" disabled={busy || !token}>
          {t('setup.submit')}
        </button>
      </form>
    </section>
  );
}
