interface InputProps {
  type?: 'text' | 'email' | 'password' | 'tel';
  autocomplete?: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
}

/** A labelled text input with the server's message for it, if it sent one. */
export function Field({
  id,
  label,
  value,
  onValue,
  error,
  multiline = false,
  ...input
}: InputProps & {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | undefined;
  multiline?: boolean;
}) {
  const errorId = `${id}-error`;
  const shared = {
    id,
    value,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errorId : undefined,
  };
  return (
    <>
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea
          {...shared}
          rows={6}
          maxLength={input.maxLength}
          onInput={(event) => onValue(event.currentTarget.value)}
        />
      ) : (
        <input {...input} {...shared} onInput={(event) => onValue(event.currentTarget.value)} />
      )}
      {error && (
        <p id={errorId} class="field-error">
          {error}
        </p>
      )}
    </>
  );
}
