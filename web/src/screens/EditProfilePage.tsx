import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type Profile } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { parseTags, photoProblem } from '../lib/tags';
import { useSubmit } from '../lib/useSubmit';
import { Field } from '../components/Field';
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
  const { busy: saving, error, setError, submit: save, fieldError } = useSubmit(async () => {
    if (!person) return;
    await api.updateProfile({
      preferred_name: preferredName.trim() || null,
      phone: phone.trim() || null,
      skills: parseTags(skills),
      languages: parseTags(languages),
      bio: bio.trim() || null,
    });
    if (photo) await api.uploadPhoto(photo);
    route(`/people/${person.id}`);
  });

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

  const removePhoto = async () => {
    setError(null);
    try {
      setProfile(await api.removePhoto());
    } catch (failure) {
      setError(failure);
    }
  };

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
        <Field
          id="edit-preferred"
          label={t('edit.preferredName')}
          value={preferredName}
          onValue={setPreferredName}
          error={fieldError('preferred_name')}
        />
        <Field
          id="edit-phone"
          label={t('edit.phone')}
          type="tel"
          autocomplete="tel"
          value={phone}
          onValue={setPhone}
          error={fieldError('phone')}
        />
        <Field id="edit-skills" label={t('edit.skills')} value={skills} onValue={setSkills} error={fieldError('skills')} />
        <Field
          id="edit-languages"
          label={t('edit.languages')}
          value={languages}
          onValue={setLanguages}
          error={fieldError('languages')}
        />
        <Field
          id="edit-bio"
          label={t('edit.bio')}
          multiline
          maxLength={2000}
          value={bio}
          onValue={setBio}
          error={fieldError('bio')}
        />
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
