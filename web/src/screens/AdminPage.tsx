import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  api,
  type AdminPeopleFilters,
  type ApiToken,
  type ImportSummary,
  type Person,
  type Role,
  type Scope,
} from '../api/client';
import { ActivationButton, ROLES, RoleSelect } from '../components/PersonAdmin';
import { Latest } from '../lib/latest';
import { ApiError } from '../api/http';
import { formatDate, useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage, Loading } from '../components/ErrorMessage';

const SCOPES: Scope[] = ['scim', 'read', 'metrics', 'admin'];

/** Admins: HR import, roles and (de)activation, API tokens. */
export function AdminPage() {
  const { t } = useI18n();
  const { person } = useSession();
  if (person?.role !== 'admin') {
    return (
      <section>
        <h1>{t('nav.admin')}</h1>
        <p class="notice notice-error" role="alert">
          {t('admin.onlyAdmins')}
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('nav.admin')}</h1>
      <ImportPanel />
      <InvitationsPanel />
      <PeoplePanel />
      <TokensPanel />
    </section>
  );
}

type MailStatus = Awaited<ReturnType<typeof api.mailStatus>>;
type InvitationOutcome = Awaited<ReturnType<typeof api.invitePeople>>;

/** Whether mail goes out, and invitations for people who cannot log in yet. */
function InvitationsPanel() {
  const { t } = useI18n();
  const [status, setStatus] = useState<MailStatus | null>(null);
  const [department, setDepartment] = useState('');
  const [outcome, setOutcome] = useState<InvitationOutcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const refresh = () => {
    api.mailStatus().then(setStatus, setError);
  };
  useEffect(refresh, []);

  const invite = async (body: Parameters<typeof api.invitePeople>[0]) => {
    setBusy(true);
    setError(null);
    setOutcome(null);
    try {
      setOutcome(await api.invitePeople(body));
      refresh();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="invite-title">
      <h2 id="invite-title">{t('admin.invite.title')}</h2>
      <p>{t('admin.invite.intro')}</p>
      {status && (
        <p class={status.enabled ? 'notice' : 'notice notice-error'} role="status">
          {status.enabled
            ? t('admin.invite.mailOn', { server: status.server ?? '', from: status.from ?? '' })
            : t('admin.invite.mailOff')}{' '}
          {t('admin.invite.queue', { waiting: status.waiting, sent: status.sent, failed: status.failed })}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      {outcome && (
        <p class="notice" role="status">
          {t('admin.invite.done', { invited: outcome.invited, skipped: outcome.skipped })}
        </p>
      )}
      <form
        class="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (department.trim()) void invite({ department: department.trim() });
        }}
      >
        <label for="invite-department">{t('admin.invite.department')}</label>
        <input id="invite-department" value={department} onInput={(event) => setDepartment(event.currentTarget.value)} />
        <button type="submit" disabled={busy || !department.trim()}>
          {t('admin.invite.inviteDepartment')}
        </button>
      </form>
      <button type="button" class="button-secondary" disabled={busy} onClick={() => void invite({ all_without_sign_in: true })}>
        {t('admin.invite.inviteAll')}
      </button>
    </section>
  );
}

function ImportPanel() {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [deactivateMissing, setDeactivateMissing] = useState(false);
  const [checked, setChecked] = useState<ImportSummary | null>(null);
  const [applied, setApplied] = useState<ImportSummary | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const summary = await api.importPeople(file, { dryRun, deactivateMissing });
      if (dryRun) setChecked(summary);
      else {
        setApplied(summary);
        setChecked(null);
      }
    } catch (failure) {
      setError(failure);
      setChecked(null);
    } finally {
      setBusy(false);
    }
  };

  const rows = error instanceof ApiError ? error.rows : [];
  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">{t('admin.import.title')}</h2>
      <p class="help">{t('admin.import.help')}</p>
      <div class="form">
        <label for="import-file">{t('admin.import.file')}</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(event) => {
            setFile(event.currentTarget.files?.[0] ?? null);
            setChecked(null);
            setApplied(null);
            setError(null);
          }}
        />
        <label class="checkbox">
          <input
            type="checkbox"
            checked={deactivateMissing}
            onChange={(event) => {
              setDeactivateMissing(event.currentTarget.checked);
              setChecked(null);
            }}
          />
          {t('admin.import.deactivateMissing')}
        </label>
        <div class="form-actions">
          <button type="button" disabled={!file || busy} onClick={() => void run(true)}>
            {t('admin.import.check')}
          </button>
          <button type="button" class="button-secondary" disabled={!checked || busy} onClick={() => void run(false)}>
            {t('admin.import.apply')}
          </button>
        </div>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {rows.length > 0 && (
        <table class="table">
          <caption>{t('admin.import.rowErrors')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.import.line')}</th>
              <th scope="col">{t('admin.import.employee')}</th>
              <th scope="col">{t('admin.import.column')}</th>
              <th scope="col">{t('admin.import.problem')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                <td>{row.line}</td>
                <td>{row.employee_id ?? ''}</td>
                <td>{row.column ?? ''}</td>
                <td>{row.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {checked && <Summary title={t('admin.import.wouldDo')} summary={checked} />}
      {applied && <Summary title={t('admin.import.done')} summary={applied} />}
    </section>
  );
}

function Summary({ title, summary }: { title: string; summary: ImportSummary }) {
  const { t } = useI18n();
  return (
    <div class="notice" role="status">
      <p>
        <strong>{title}</strong>
      </p>
      <p>
        {t('admin.import.summary', {
          rows: summary.rows,
          created: summary.created,
          updated: summary.updated,
          unchanged: summary.unchanged,
          deactivated: summary.deactivated,
        })}
      </p>
    </div>
  );
}

const NO_FILTERS: AdminPeopleFilters = { q: '', role: '', status: '', department: '' };

/** Everyone, searchable by the same engine as colleague search, filtered by role, status and
 * department; roles and (de)activation change in place. */
function PeoplePanel() {
  const { t } = useI18n();
  const { person: me } = useSession();
  const [filters, setFilters] = useState<AdminPeopleFilters>(NO_FILTERS);
  const [typed, setTyped] = useState('');
  const [people, setPeople] = useState<Person[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [departments, setDepartments] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useMemo(() => new Latest(), []);

  const load = async (from?: string) => {
    setLoading(true);
    setError(null);
    try {
      const page = await latest.run((signal) => api.adminPeople(filters, from, signal));
      if (page === undefined) return;
      setPeople((shown) => (from ? [...shown, ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
      setTotal(page.total);
      if (page.departments) setDepartments(page.departments);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load();
    return () => latest.cancel();
  }, [filters]);
  // The search box waits for a pause in typing before it asks.
  useEffect(() => {
    if (typed === filters.q) return;
    const timer = setTimeout(() => setFilters((current) => ({ ...current, q: typed })), 250);
    return () => clearTimeout(timer);
  }, [typed]);

  const change = async (action: () => Promise<Person>) => {
    setError(null);
    try {
      const updated = await action();
      setPeople((shown) => shown.map((person) => (person.id === updated.id ? updated : person)));
    } catch (failure) {
      setError(failure);
    }
  };
  const set = (patch: Partial<AdminPeopleFilters>) => setFilters((current) => ({ ...current, ...patch }));

  return (
    <section class="panel" aria-labelledby="people-title">
      <h2 id="people-title">{t('admin.people.title')}</h2>
      <form class="filters" role="search" aria-label={t('admin.people.find')} onSubmit={(event) => event.preventDefault()}>
        <label>
          {t('admin.people.search')}
          <input type="search" value={typed} maxLength={200} onInput={(event) => setTyped(event.currentTarget.value)} />
        </label>
        <label>
          {t('admin.people.role')}
          <select value={filters.role} onChange={(event) => set({ role: event.currentTarget.value as Role | '' })}>
            <option value="">{t('admin.people.anyRole')}</option>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {t(`admin.role.${role}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.people.status')}
          <select
            value={filters.status}
            onChange={(event) => set({ status: event.currentTarget.value as AdminPeopleFilters['status'] })}
          >
            <option value="">{t('admin.people.anyStatus')}</option>
            <option value="active">{t('admin.people.active')}</option>
            <option value="inactive">{t('admin.people.inactive')}</option>
          </select>
        </label>
        <label>
          {t('admin.people.department')}
          <select value={filters.department} onChange={(event) => set({ department: event.currentTarget.value })}>
            <option value="">{t('admin.people.anyDepartment')}</option>
            {departments.map((department) => (
              <option key={department} value={department}>
                {department}
              </option>
            ))}
          </select>
        </label>
      </form>
      {total !== null && (
        <p aria-live="polite" class="result-count">
          {total === 1 ? t('admin.people.countOne') : t('admin.people.count', { count: total })}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t('admin.people.name')}</th>
            <th scope="col">{t('profile.email')}</th>
            <th scope="col">{t('admin.people.department')}</th>
            <th scope="col">{t('admin.people.role')}</th>
            <th scope="col">{t('admin.people.status')}</th>
          </tr>
        </thead>
        <tbody>
          {people.map((person) => (
            <tr key={person.id}>
              <td>
                <a href={`/people/${person.id}`}>{person.display_name}</a>
              </td>
              <td>{person.email ?? '—'}</td>
              <td>{person.department ?? ''}</td>
              <td>
                <RoleSelect person={person} disabled={person.id === me?.id} onChange={(action) => void change(action)} />
              </td>
              <td>
                {person.active ? t('admin.people.active') : t('admin.people.inactive')}{' '}
                {person.id !== me?.id && <ActivationButton person={person} onChange={(action) => void change(action)} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {loading && <Loading />}
      {cursor && !loading && (
        <button type="button" class="button-secondary" onClick={() => void load(cursor)}>
          {t('admin.more')}
        </button>
      )}
    </section>
  );
}

function TokensPanel() {
  const { t, language } = useI18n();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['scim']);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = () =>
    api
      .tokens()
      .then((page) => setTokens(page.items))
      .catch(setError);
  useEffect(() => void load(), []);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api.createToken(name.trim(), scopes);
      setSecret(created.secret);
      setName('');
      await load();
    } catch (failure) {
      setError(failure);
    }
  };

  const revoke = async (id: string) => {
    setError(null);
    try {
      await api.revokeToken(id);
      await load();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t('admin.tokens.title')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      {secret && (
        <div class="notice" role="status">
          <p>{t('admin.tokens.onceVisible')}</p>
          <p>
            <code class="secret">{secret}</code>
          </p>
        </div>
      )}
      <form class="form" onSubmit={create}>
        <label for="token-name">{t('admin.tokens.name')}</label>
        <input id="token-name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <fieldset class="inline-choices">
          <legend>{t('admin.tokens.scopes')}</legend>
          {SCOPES.map((scope) => (
            <label key={scope} class="checkbox">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(event) =>
                  setScopes((chosen) =>
                    event.currentTarget.checked ? [...chosen, scope] : chosen.filter((item) => item !== scope),
                  )
                }
              />
              {scope}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={!name.trim() || scopes.length === 0}>
          {t('admin.tokens.create')}
        </button>
      </form>
      {tokens === null ? (
        <Loading />
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('admin.tokens.name')}</th>
              <th scope="col">{t('admin.tokens.scopes')}</th>
              <th scope="col">{t('admin.tokens.created')}</th>
              <th scope="col">{t('admin.people.status')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>{token.scopes.join(', ')}</td>
                <td>{formatDate(language, token.created_at)}</td>
                <td>
                  {token.revoked_at ? (
                    t('admin.tokens.revoked')
                  ) : (
                    <button type="button" class="button-link" onClick={() => void revoke(token.id)}>
                      {t('admin.tokens.revoke', { name: token.name })}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
