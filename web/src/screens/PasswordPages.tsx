import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useSubmit } from '../lib/useSubmit';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { NewPasswordFields, useNewPassword } from '../components/NewPassword';

/** "Forgot password": the same answer whether or not the address is known. */
export function ForgotPasswordPage() {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    await api.requestPasswordReset(email);
    setSent(true);
  });

  return (
    <section class="narrow" aria-labelledby="forgot-title">
      <h1 id="forgot-title">{t('forgot.title')}</h1>
      {sent ? (
        <p class="notice" role="status">
          {t('forgot.sent', { email })}
        </p>
      ) : (
        <>
          <p>{t('forgot.intro')}</p>
          {error !== null && <ErrorMessage error={error} />}
          <form onSubmit={submit} class="form">
            <Field
              id="forgot-email"
              label={t('login.email')}
              type="email"
              autocomplete="username"
              required
              value={email}
              onValue={setEmail}
              error={fieldError('email')}
            />
            <button type="submit" disabled={busy}>
              {t('forgot.submit')}
            </button>
          </form>
        </>
      )}
      <p>
        <a href="/login">{t('forgot.back')}</a>
      </p>
    </section>
  );
}

/** The page a mailed link opens: choose a password (a reset, or the welcome of an invitation). */
function ChoosePassword({ welcome }: { welcome: boolean }) {
  const { t } = useI18n();
  const { query } = useLocation();
  const token = query.token ?? '';
  const chosen = useNewPassword();
  const [done, setDone] = useState(false);
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    if (!chosen.confirmed()) return;
    await api.completePasswordReset(token, chosen.password);
    setDone(true);
  });

  return (
    <section class="narrow" aria-labelledby="choose-title">
      <h1 id="choose-title">{t(welcome ? 'welcome.title' : 'reset.title')}</h1>
      {done ? (
        <>
          <p class="notice" role="status">
            {t('reset.done')}
          </p>
          <p>
            <a href="/login">{t('login.submit')}</a>
          </p>
        </>
      ) : (
        <>
          <p>{t(welcome ? 'welcome.intro' : 'reset.intro')}</p>
          {!token && (
            <p class="notice notice-error" role="alert">
              {t('reset.noToken')}
            </p>
          )}
          {error !== null && <ErrorMessage error={error} />}
          <form onSubmit={submit} class="form">
            <NewPasswordFields idPrefix="choose" fields={chosen.fields} error={fieldError('password')} />
            <button type="submit" disabled={busy || !token}>
              {t('reset.submit')}
            </button>
          </form>
          {!welcome && (
            <p>
              <a href="/forgot">{t('reset.newLink')}</a>
            </p>
          )}
        </>
      )}
    </section>
  );
}

export function ResetPasswordPage() {
  return <ChoosePassword welcome={false} />;
}

export function WelcomePage() {
  return <ChoosePassword welcome={true} />;
}
