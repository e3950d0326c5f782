import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type Group, type GroupKind, type Member, type PersonCard, type Posting, type Visibility } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage } from '../components/ErrorMessage';
import { Latest } from '../lib/latest';
import { formatDate } from '../i18n';

/** A labelled drop-down of fixed values. */
function Choice<T extends string>({
  id,
  label,
  value,
  options,
  optionLabel,
  onChange,
}: {
  id: string;
  label: string;
  value: T;
  options: readonly T[];
  optionLabel: (value: T) => string;
  onChange: (value: T) => void;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.currentTarget.value as T)}>
        {options.map((option) => (
          <option key={option} value={option}>
            {optionLabel(option)}
          </option>
        ))}
      </select>
    </>
  );
}

export function KindChoice({ id, value, onChange }: { id: string; value: GroupKind; onChange: (kind: GroupKind) => void }) {
  const { t } = useI18n();
  return <Choice id={id} label={t('groups.kind')} value={value} options={['casual', 'work'] as const} optionLabel={(kind) => t(`group.kind.${kind}`)} onChange={onChange} />;
}

export function VisibilityChoice({ id, value, onChange }: { id: string; value: Visibility; onChange: (visibility: Visibility) => void }) {
  const { t } = useI18n();
  return (
    <Choice
      id={id}
      label={t('groups.visibility')}
      value={value}
      options={['public', 'private', 'secret'] as const}
      optionLabel={(visibility) => t(`group.visibility.${visibility}`)}
      onChange={onChange}
    />
  );
}

/** The group's "About" tab: what it is, and for its owners and admins how to change it. */
export function GroupAbout({ group, manager, onChanged }: { group: Group; manager: boolean; onChanged: (group: Group) => void }) {
  const { t, language } = useI18n();
  const { person } = useSession();
  const platformAdmin = person?.role === 'admin';
  return (
    <div role="tabpanel" class="stack">
      <dl class="facts">
        <dt>{t('groups.kind')}</dt>
        <dd>{t(`group.kind.${group.kind}`)}</dd>
        <dt>{t('groups.visibility')}</dt>
        <dd>{t(`group.visibility.${group.visibility}`)}</dd>
        <dt>{t('group.posting')}</dt>
        <dd>{t(`group.posting.${group.posting}`)}</dd>
        <dt>{t('group.since')}</dt>
        <dd>{formatDate(language, group.created_at)}</dd>
      </dl>
      {manager && <Settings group={group} onChanged={onChanged} />}
      {manager && <Cover group={group} onChanged={onChanged} />}
      {manager && <Invitations group={group} />}
      {(platformAdmin || group.my_role === 'owner') && <Archive group={group} onChanged={onChanged} platformAdmin={platformAdmin} />}
    </div>
  );
}

function Settings({ group, onChanged }: { group: Group; onChanged: (group: Group) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description);
  const [kind, setKind] = useState<GroupKind>(group.kind);
  const [visibility, setVisibility] = useState<Visibility>(group.visibility);
  const [posting, setPosting] = useState<Posting>(group.posting);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  return (
    <form
      class="form"
      aria-labelledby="group-settings-title"
      onSubmit={(event) => {
        event.preventDefault();
        setError(null);
        setSaved(false);
        api.updateGroup(group.id, { name, description, kind, visibility, posting }).then((next) => {
          setSaved(true);
          onChanged(next);
        }, setError);
      }}
    >
      <h2 id="group-settings-title">{t('group.settings')}</h2>
      <label for="group-name">{t('groups.name')}</label>
      <input id="group-name" required maxLength={100} value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <label for="group-description">{t('groups.description')}</label>
      <textarea id="group-description" rows={4} value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
      <KindChoice id="group-kind-setting" value={kind} onChange={setKind} />
      <VisibilityChoice id="group-visibility" value={visibility} onChange={setVisibility} />
      <Choice id="group-posting" label={t('group.posting')} value={posting} options={['everyone', 'admins'] as const} optionLabel={(value) => t(`group.posting.${value}`)} onChange={setPosting} />
      {error !== null && <ErrorMessage error={error} />}
      {saved && <p role="status">{t('common.saved')}</p>}
      <button type="submit">{t('common.save')}</button>
    </form>
  );
}

function Cover({ group, onChanged }: { group: Group; onChanged: (group: Group) => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = (work: Promise<Group>) => {
    setBusy(true);
    setError(null);
    work.then(onChanged, setError).finally(() => setBusy(false));
  };
  return (
    <section aria-labelledby="group-cover-title" class="stack">
      <h2 id="group-cover-title">{t('group.cover')}</h2>
      <p class="muted small">{t('group.coverHint')}</p>
      <div class="row">
        <label class="button-secondary file-button">
          {group.cover_url ? t('group.coverReplace') : t('group.coverAdd')}
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp"
            class="visually-hidden"
            disabled={busy}
            onChange={(event) => {
              const file = event.currentTarget.files?.[0];
              event.currentTarget.value = '';
              if (file) run(api.setCover(group.id, file));
            }}
          />
        </label>
        {group.cover_url && (
          <button type="button" class="button-secondary" disabled={busy} onClick={() => run(api.removeCover(group.id))}>
            {t('group.coverRemove')}
          </button>
        )}
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </section>
  );
}

/** Invite colleagues (found by name) and see who has not answered yet. */
function Invitations({ group }: { group: Group }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<PersonCard[]>([]);
  const [invited, setInvited] = useState<Member[]>([]);
  const [error, setError] = useState<unknown>(null);
  const latest = useMemo(() => new Latest(), []);
  const load = () => api.members(group.id, 'invited').then((page) => setInvited(page.items), setError);
  useEffect(() => {
    void load();
  }, [group.id]);
  useEffect(() => {
    if (q.trim() === '') {
      setFound([]);
      return;
    }
    latest
      .run((signal) => api.search({ q, limit: 5 }, signal))
      .then((answer) => answer && setFound(answer.hits))
      .catch(setError);
  }, [q]);
  return (
    <section aria-labelledby="group-invite-title" class="stack">
      <h2 id="group-invite-title">{t('group.invite')}</h2>
      <label for="group-invite-q">{t('group.inviteSearch')}</label>
      <input id="group-invite-q" type="search" value={q} onInput={(event) => setQ(event.currentTarget.value)} />
      {found.length > 0 && (
        <ul class="people-list">
          {found.map((person) => (
            <li key={person.id} class="person-row">
              <span>
                {person.display_name}
                {person.department && <span class="muted small"> · {person.department}</span>}
              </span>
              <button
                type="button"
                class="push-right"
                onClick={() => {
                  setError(null);
                  api.invite(group.id, person.id).then(() => {
                    setQ('');
                    void load();
                  }, setError);
                }}
              >
                {t('group.inviteOne', { name: person.display_name })}
              </button>
            </li>
          ))}
        </ul>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <h3>{t('group.invited')}</h3>
      {invited.length === 0 ? (
        <p class="muted">{t('group.noInvitations')}</p>
      ) : (
        <ul class="people-list">
          {invited.map((member) => (
            <li key={member.person.id} class="person-row">
              <a href={`/people/${member.person.id}`}>{member.person.display_name}</a>
              <button
                type="button"
                class="button-secondary push-right"
                onClick={() => api.removeMember(group.id, member.person.id).then(load, setError)}
              >
                {t('group.withdraw', { name: member.person.display_name })}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Archive or bring back (owners and platform admins); delete (platform admins). */
function Archive({ group, onChanged, platformAdmin }: { group: Group; onChanged: (group: Group) => void; platformAdmin: boolean }) {
  const { t } = useI18n();
  const { route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  return (
    <section aria-labelledby="group-archive-title" class="stack">
      <h2 id="group-archive-title">{t('group.archiveTitle')}</h2>
      <div class="row">
        <button type="button" class="button-secondary" onClick={() => api.updateGroup(group.id, { archived: !group.archived }).then(onChanged, setError)}>
          {group.archived ? t('group.unarchive') : t('group.archive')}
        </button>
        {platformAdmin && (
          <button
            type="button"
            class="button-danger"
            onClick={() => {
              if (window.confirm(t('group.confirmDelete', { name: group.name }))) {
                api.deleteGroup(group.id).then(() => route('/groups'), setError);
              }
            }}
          >
            {t('group.delete')}
          </button>
        )}
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </section>
  );
}
