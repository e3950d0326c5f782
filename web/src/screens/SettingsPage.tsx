import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useSubmit } from '../lib/useSubmit';
import { relativeTime } from '../lib/time';
import { describeDevice } from '../lib/device';
import { ErrorMessage, Loading } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { NewPasswordFields, useNewPassword } from '../components/NewPassword';

type Session = Awaited<ReturnType<typeof api.sessions>>['items'][number];

/** Your own account: password and where you are signed in. */
export function SettingsPage() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>
      <SessionsPanel />
      <PasswordPanel />
    </section>
  );
}

function SessionsPanel() {
  const { t, language } = useI18n();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = () => {
    api.sessions().then((list) => setSessions(list.items), setError);
  };
  useEffect(load, []);

  const end = async (ids: string[]) => {
    setBusy(true);
    setError(null);
    try {
      for (const id of ids) await api.revokeSession(id);
      load();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const others = (sessions ?? []).filter((session) => !session.current);
  return (
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">{t('settings.sessions.title')}</h2>
      {error !== null && <ErrorMessage error={error} onRetry={load} />}
      {sessions === null ? (
        <Loading />
      ) : (
        <>
          <ul class="session-list">
            {sessions.map((session) => (
              <li key={session.id}>
                <p>
                  <strong title={session.user_agent ?? undefined}>{describeDevice(session.user_agent) ?? t('settings.sessions.unknownDevice')}</strong>
                  {session.current && <span class="muted"> {t('settings.sessions.thisDevice')}</span>}
                </p>
                <p class="muted">
                  {t('settings.sessions.seen', {
                    when: relativeTime(language, session.last_seen_at),
                    address: session.ip_address ?? '—',
                  })}
                </p>
                {!session.current && (
                  <button type="button" class="button-secondary" disabled={busy} onClick={() => void end([session.id])}>
                    {t('settings.sessions.end')}
                  </button>
                )}
              </li>
            ))}
          </ul>
          {others.length > 0 && (
            <button type="button" disabled={busy} onClick={() => void end(others.map((session) => session.id))}>
              {t('settings.sessions.endOthers')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function PasswordPanel() {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const chosen = useNewPassword();
  const [done, setDone] = useState(false);
  const { busy, error, submit, fieldError } = useSubmit(async () => {
    setDone(false);
    if (!chosen.confirmed()) return;
    await api.changePassword(current, chosen.password);
    setCurrent('');
    chosen.clear();
    setDone(true);
  });

  return (
    <section class="panel" aria-labelledby="password-title">
      <h2 id="password-title">{t('settings.password.title')}</h2>
      {done && (
        <p class="notice" role="status">
          {t('settings.password.done')}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <form onSubmit={submit} class="form">
        <Field
          id="password-current"
          label={t('settings.password.current')}
          type="password"
          autocomplete="current-password"
          required
          value={current}
          onValue={setCurrent}
          error={fieldError('current_password')}
        />
        <NewPasswordFields idPrefix="password" fields={chosen.fields} error={fieldError('new_password')} />
        <button type="submit" disabled={busy}>
          {t('settings.password.submit')}
        </button>
      </form>
    </section>
  );
}
