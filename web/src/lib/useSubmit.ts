import { useState } from 'preact/hooks';
import { ApiError } from '../api/http';

/** Runs a form's action: busy while it runs, its error kept for the form to show. */
export function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  /** The server's message for one field, when it named that field. */
  const fieldError = (field: string) => (error instanceof ApiError ? error.fields[field] : undefined);
  return { busy, error, setError, submit, fieldError };
}
