import { useState } from 'preact/hooks';
import { useI18n } from '../i18n';
import { Field } from './Field';

/** A new password typed twice; `confirmed()` says whether the two match (and shows it if not). */
export function useNewPassword() {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  return {
    password,
    confirmed: () => {
      const same = password === again;
      setMismatch(!same);
      return same;
    },
    clear: () => {
      setPassword('');
      setAgain('');
    },
    fields: { password, setPassword, again, setAgain, mismatch },
  };
}

export function NewPasswordFields({
  idPrefix,
  fields,
  error,
}: {
  idPrefix: string;
  fields: ReturnType<typeof useNewPassword>['fields'];
  error: string | undefined;
}) {
  const { t } = useI18n();
  return (
    <>
      <Field
        id={`${idPrefix}-password`}
        label={t('reset.password')}
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        value={fields.password}
        onValue={fields.setPassword}
        error={error}
      />
      <Field
        id={`${idPrefix}-again`}
        label={t('reset.again')}
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        value={fields.again}
        onValue={fields.setAgain}
        error={fields.mismatch ? t('reset.mismatch') : undefined}
      />
    </>
  );
}
