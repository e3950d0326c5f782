/** A person's photo, or their initials on a colour derived from their id. */
export function Avatar({
  name,
  id,
  photoUrl,
  size,
  alt = '',
}: {
  name: string;
  id: string;
  photoUrl?: string | null | undefined;
  size: 'small' | 'large';
  alt?: string;
}) {
  const pixels = size === 'small' ? 40 : 128;
  if (photoUrl) {
    const source = `${photoUrl}${photoUrl.includes('?') ? '&' : '?'}size=${size === 'small' ? 64 : 256}`;
    return <img class={`avatar avatar-${size}`} src={source} width={pixels} height={pixels} alt={alt} loading="lazy" />;
  }
  const letters = initials(name);
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (
    <span
      class={`avatar avatar-${size} avatar-initials`}
      style={{ '--avatar-hue': String(hash % 360) }}
      role={alt ? 'img' : undefined}
      aria-label={alt || undefined}
      aria-hidden={alt ? undefined : 'true'}
    >
      {letters}
    </span>
  );
}

/** "Sanne van Rijnsoever" → "SR": particles (lower-case words) are skipped. */
export function initials(name: string): string {
  const words = name.split(/\s+/).filter(Boolean);
  const significant = words.filter((word, index) => index === 0 || word[0] !== word[0]?.toLowerCase());
  const first = significant[0]?.[0] ?? '';
  const last = significant.length > 1 ? (significant[significant.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}
