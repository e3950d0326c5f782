import { ApiError, OfflineError } from '../api/http';
import { errorText, useI18n } from '../i18n';

/** Says what went wrong in the reader's language (by the server's error code); offline and
 * unknown failures get ours. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  let message = t('common.error');
  if (error instanceof ApiError) message = errorText(t, error);
  else if (error instanceof OfflineError) message = t('common.offline');
  return (
    <div class="notice notice-error" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" class="button-secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="loading" role="status" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}
