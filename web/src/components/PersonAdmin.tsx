import { api, type Person, type Role } from '../api/client';
import { useI18n } from '../i18n';

export const ROLES: Role[] = ['employee', 'hr', 'admin'];

/** What the admin controls need to know of a person. */
export interface Administered {
  id: string;
  display_name: string;
  role: Role;
  active: boolean;
}

/** An admin's choice of someone's role; changing it saves at once. */
export function RoleSelect({
  person,
  disabled,
  onChange,
}: {
  person: Administered;
  disabled?: boolean;
  onChange: (action: () => Promise<Person>) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <label class="visually-hidden" for={`role-${person.id}`}>
        {t('admin.people.roleOf', { name: person.display_name })}
      </label>
      <select
        id={`role-${person.id}`}
        value={person.role}
        disabled={disabled}
        onChange={(event) => onChange(() => api.setRole(person.id, event.currentTarget.value as Role))}
      >
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {t(`admin.role.${role}`)}
          </option>
        ))}
      </select>
    </>
  );
}

/** Deactivates an active person (their sessions end) or reactivates a deactivated one. */
export function ActivationButton({
  person,
  onChange,
}: {
  person: Administered;
  onChange: (action: () => Promise<Person>) => void;
}) {
  const { t } = useI18n();
  return (
    <button
      type="button"
      class="button-link"
      onClick={() => onChange(() => (person.active ? api.deactivate(person.id) : api.reactivate(person.id)))}
    >
      {person.active
        ? t('admin.people.deactivate', { name: person.display_name })
        : t('admin.people.reactivate', { name: person.display_name })}
    </button>
  );
}
