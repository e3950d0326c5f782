import { useState } from 'preact/hooks';
import { api, type Attachment } from '../api/client';
import { useI18n } from '../i18n';
import { fileSize } from '../lib/time';

/** Files being attached to a post or comment: uploads them as they are chosen. */
export function useUploads(initial: Attachment[], onError: (error: unknown) => void) {
  const [files, setFiles] = useState<Attachment[]>(initial);
  const [uploading, setUploading] = useState(0);
  const upload = async (chosen: FileList | null) => {
    for (const file of Array.from(chosen ?? [])) {
      setUploading((count) => count + 1);
      try {
        const stored = await api.upload(file);
        setFiles((current) => [...current, stored]);
      } catch (failure) {
        onError(failure);
      } finally {
        setUploading((count) => count - 1);
      }
    }
  };
  return { files, setFiles, uploading, upload };
}

/** The files chosen so far, each with a remove button. */
export function FileChips({ files, onChange }: { files: Attachment[]; onChange: (files: Attachment[]) => void }) {
  const { t, language } = useI18n();
  if (files.length === 0) return null;
  return (
    <ul class="file-chips">
      {files.map((file) => (
        <li key={file.id} class="file-chip">
          {file.name} <span class="muted small">{fileSize(language, file.size)}</span>
          <button
            type="button"
            class="button-link"
            aria-label={t('composer.removeFile', { name: file.name })}
            onClick={() => onChange(files.filter((other) => other.id !== file.id))}
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

export function AddFiles({ onFiles }: { onFiles: (files: FileList | null) => void }) {
  const { t } = useI18n();
  return (
    <label class="button-secondary file-button">
      {t('composer.addFiles')}
      <input
        type="file"
        multiple
        class="visually-hidden"
        onChange={(event) => {
          onFiles(event.currentTarget.files);
          event.currentTarget.value = '';
        }}
      />
    </label>
  );
}
