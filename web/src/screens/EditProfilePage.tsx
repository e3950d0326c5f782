import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type Profile } from '../api/client';
import { ApiError } from '../api/http';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { parseTags, photoProblem } from '../lib/tags';
import { Avatar } from '../components/Avatar';
import { ErrorMessage, Loading } from '../components/ErrorMessage';

/** What a person owns of their profile: preferred name, phone, skills, languages, bio, photo. */
export function EditProfilePage() {
  const { t } = useI18n();
  const { person } = useSession();
  const { route } = useLocation();
  const [profile, setProfile] = useState<Profile | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [preferredName, setPreferredName] = useState('');
  const [phone, setPhone] = useState('');
  const [skills, setSkills] = useState('');
  const [languages, setLanguages] = useState('');
  const [bio, setBio] = useState('');
  const [photo, setPhoto] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [photoError, setPhotoError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!person) return;
    const controller = new AbortController();
    api
      .person(person.id, controller.signal)
      .then((loaded) => {
        setProfile(loaded);
        setPreferredName(loaded.preferred_name ?? '');
        setPhone(loaded.phone ?? '');
        setSkills(loaded.skills.join(', '));
        setLanguages(loaded.languages.join(', '));
        setBio(loaded.bio ?? '');
      })
      .catch(setLoadError);
    return () => controller.abort();
  }, [person?.id]);

  // The preview's object URL is released when it is replaced or the page closes.
  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);

  if (loadError !== null) return <ErrorMessage error={loadError} />;
  if (!person || profile === null) return <Loading />;

  const choosePhoto = (file: File | undefined) => {
    setPhotoError(null);
    if (!file) {
      setPhoto(null);
      setPreview(null);
      return;
    }
    const problem = photoProblem(file);
    if (problem) {
      setPhoto(null);
      setPreview(null);
      setPhotoError(t('edit.photoHelp'));
      return;
    }
    setPhoto(file);
    setPreview(URL.createObjectURL(file));
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      await api.updateProfile({
        preferred_name: preferredName.trim() || null,
        phone: phone.trim() || null,
        skills: parseTags(skills),
        languages: parseTags(languages),
        bio: bio.trim() || null,
      });
      if (photo) await api.uploadPhoto(photo);
      route(`/people/${person.id}`);
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };

  const removePhoto = async () => {
    setError(null);
    try {
      setProfile(await api.removePhoto());
    } catch (failure) {
      setError(failure);
    }
  };

  const fields = error instanceof ApiError ? error.fields : {};
  const described = (field: string) => (fields[field] ? `edit-${field}-error` : undefined);
  const fieldError = (field: string) =>
    fields[field] ? (
      <p id={`edit-${field}-error`} class="field-error">
        {fields[field]}
      </p>
    ) : null;

  return (
    <section aria-labelledby="edit-title">
      <h1 id="edit-title">{t('edit.title')}</h1>
      {error !== null && <ErrorMessage error={error} />}
      <form class="form wide" onSubmit={save}>
        <fieldset class="photo-field">
          <legend>{t('edit.photo')}</legend>
          {preview ? (
            <img class="avatar avatar-large" src={preview} width={128} height={128} alt={t('edit.photoPreview')} />
          ) : (
            <Avatar
              name={profile.display_name}
              id={profile.id}
              photoUrl={profile.photo_url}
              size="large"
              alt={t('profile.photoOf', { name: profile.display_name })}
            />
          )}
          <label for="edit-photo">{t('edit.photo')}</label>
          <input
            id="edit-photo"
            type="file"
            accept="image/jpeg,image/png,image/webp"
            aria-describedby="edit-photo-help"
            onChange={(event) => choosePhoto(event.currentTarget.files?.[0])}
          />
          <p id="edit-photo-help" class={photoError ? 'field-error' : 'help'} role={photoError ? 'alert' : undefined}>
            {t('edit.photoHelp')}
          </p>
          {profile.photo_url && !preview && (
            <button type="button" class="button-secondary" onClick={() => void removePhoto()}>
              {t('edit.removePhoto')}
            </button>
          )}
        </fieldset>
        <label for="edit-preferred">{t('edit.preferredName')}</label>
        <input
          id="edit-preferred"
          value={preferredName}
          aria-describedby={described('preferred_name')}
          onInput={(event) => setPreferredName(event.currentTarget.value)}
        />
        {fieldError('preferred_name')}
        <label for="edit-phone">{t('edit.phone')}</label>
        <input
          id="edit-phone"
          type="tel"
          autocomplete="tel"
          value={phone}
          aria-describedby={described('phone')}
          onInput={(event) => setPhone(event.currentTarget.value)}
        />
        {fieldError('phone')}
        <label for="edit-skills">{t('edit.skills')}</label>
        <input
          id="edit-skills"
          value={skills}
          aria-describedby={described('skills')}
          onInput={(event) => setSkills(event.currentTarget.value)}
        />
        {fieldError('skills')}
        <label for="edit-languages">{t('edit.languages')}</label>
        <input
          id="edit-languages"
          value={languages}
          aria-describedby={described('languages')}
          onInput={(event) => setLanguages(event.currentTarget.value)}
        />
        {fieldError('languages')}
        <label for="edit-bio">{t('edit.bio')}</label>
        <textarea
          id="edit-bio"
          rows={6}
          maxLength={2000}
          value={bio}
          aria-describedby={described('bio')}
          onInput={(event) => setBio(event.currentTarget.value)}
        />
        {fieldError('bio')}
        <div class="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? t('common.saving') : t('common.save')}
          </button>
          <a class="button-secondary" href={`/people/${person.id}`}>
            {t('common.cancel')}
          </a>
        </div>
      </form>
    </section>
  );
}
