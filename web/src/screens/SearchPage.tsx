import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type FacetCount, type SearchResponse } from '../api/client';
import { Latest } from '../lib/latest';
import { useI18n } from '../i18n';
import { Avatar } from '../components/Avatar';
import { Highlighted } from '../components/Highlighted';
import { ErrorMessage, Loading } from '../components/ErrorMessage';

const FACETS = ['department', 'location', 'skill'] as const;
type Facet = (typeof FACETS)[number];
const PAGE_LIMIT = 50;

/** Full results for the query in the URL (`/search?q=…&department=…`), with facet chips. */
export function SearchPage() {
  const { t } = useI18n();
  const { query, route } = useLocation();
  const q = query.q ?? '';
  const filters: Record<Facet, string | undefined> = {
    department: query.department,
    location: query.location,
    skill: query.skill,
  };
  const [results, setResults] = useState<SearchResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const latest = useMemo(() => new Latest(), []);
  const key = `${q}\u0000${filters.department ?? ''}\u0000${filters.location ?? ''}\u0000${filters.skill ?? ''}`;

  useEffect(() => {
    setError(null);
    latest
      .run((signal) => api.search({ q, ...filters, limit: PAGE_LIMIT }, signal))
      .then((answer) => answer !== undefined && setResults(answer))
      .catch(setError);
    return () => latest.cancel();
  }, [key, attempt]);

  const withFilter = (facet: Facet, value: string | undefined) => {
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    for (const name of FACETS) {
      const current = name === facet ? value : filters[name];
      if (current) params.set(name, current);
    }
    return `/search?${params.toString()}`;
  };
  const anyFilter = FACETS.some((facet) => filters[facet]);

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">{q ? `“${q}”` : t('nav.people')}</h1>
      {error !== null && <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} />}
      {results === null && error === null && <Loading />}
      {results !== null && (
        <div class="search-layout">
          <aside class="facets" aria-label={t('search.clearFilters')}>
            {FACETS.map((facet) => (
              <FacetGroup
                key={facet}
                title={t(`search.facet.${facet}`)}
                values={results.facets[facet]}
                selected={filters[facet]}
                hrefFor={(value) => withFilter(facet, value)}
                onChoose={route}
              />
            ))}
            {anyFilter && (
              <a class="clear-filters" href={`/search?q=${encodeURIComponent(q)}`}>
                {t('search.clearFilters')}
              </a>
            )}
          </aside>
          <div class="results">
            <p role="status" class="result-count">
              {results.total === 1 ? t('search.resultsOne') : t('search.results', { count: results.total })}
            </p>
            {results.hits.length === 0 ? (
              <p class="empty">{q ? t('search.noResults', { query: q }) : t('search.hint')}</p>
            ) : (
              <ul class="cards">
                {results.hits.map((hit) => (
                  <li key={hit.id} class="card">
                    <Avatar name={hit.display_name} id={hit.id} photoUrl={hit.photo_url} size="small" />
                    <div>
                      <a href={`/people/${hit.id}`} class="card-name">
                        <Highlighted text={hit.display_name} query={q} />
                      </a>
                      <p class="card-detail">{[hit.title, hit.department, hit.location].filter(Boolean).join(' · ')}</p>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function FacetGroup({
  title,
  values,
  selected,
  hrefFor,
  onChoose,
}: {
  title: string;
  values: FacetCount[];
  selected: string | undefined;
  hrefFor: (value: string | undefined) => string;
  onChoose: (url: string) => void;
}) {
  const { language } = useI18n();
  if (values.length === 0 && !selected) return null;
  const numbers = new Intl.NumberFormat(language);
  return (
    <fieldset class="facet">
      <legend>{title}</legend>
      <div class="chips">
        {values.map((facet) => {
          const on = facet.value === selected;
          return (
            <button
              key={facet.value}
              type="button"
              class={on ? 'chip chip-on' : 'chip'}
              aria-pressed={on}
              onClick={() => onChoose(hrefFor(on ? undefined : facet.value))}
            >
              {facet.value} <span class="chip-count">{numbers.format(facet.count)}</span>
            </button>
          );
        })}
      </div>
    </fieldset>
  );
}
