import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type SearchResponse } from '../api/client';
import { Latest, debounce } from '../lib/latest';
import { useI18n } from '../i18n';
import { Avatar } from './Avatar';
import { Highlighted } from './Highlighted';
import { ErrorMessage } from './ErrorMessage';

const TYPEAHEAD_LIMIT = 8;
// Short: stale requests are cancelled anyway, and the server answers in about a millisecond.
const DEBOUNCE_MS = 40;

/** The search field in the header: results as you type, arrows to move, Enter to open. */
export function SearchBox() {
  const { t } = useI18n();
  const { route, query: urlQuery, path } = useLocation();
  const [text, setText] = useState(path === '/search' ? (urlQuery.q ?? '') : '');
  const [results, setResults] = useState<SearchResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const latest = useMemo(() => new Latest(), []);
  const input = useRef<HTMLInputElement>(null);

  const fetchResults = useMemo(
    () =>
      debounce((value: string) => {
        latest
          .run((signal) => api.search({ q: value, limit: TYPEAHEAD_LIMIT }, signal))
          .then((answer) => {
            if (answer === undefined) return;
            setResults(answer);
            setError(null);
            setActive(-1);
            // Lets the browser test time keystroke → painted results.
            requestAnimationFrame(() => document.dispatchEvent(new CustomEvent('plein:typeahead-painted')));
          })
          .catch((failure: unknown) => setError(failure));
      }, DEBOUNCE_MS),
    [latest],
  );

  useEffect(() => () => {
    fetchResults.cancel();
    latest.cancel();
  }, [fetchResults, latest]);

  const onInput = (value: string) => {
    setText(value);
    setOpen(true);
    if (value.trim() === '') {
      fetchResults.cancel();
      latest.cancel();
      setResults(null);
      setError(null);
      return;
    }
    fetchResults(value);
  };

  const hits = results?.hits ?? [];
  const showAll = () => {
    setOpen(false);
    route(`/search?q=${encodeURIComponent(text.trim())}`);
  };
  const openPerson = (id: string) => {
    setOpen(false);
    setText('');
    setResults(null);
    route(`/people/${id}`);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown' && hits.length > 0) {
      event.preventDefault();
      setOpen(true);
      setActive((index) => (index + 1) % hits.length);
    } else if (event.key === 'ArrowUp' && hits.length > 0) {
      event.preventDefault();
      setActive((index) => (index <= 0 ? hits.length - 1 : index - 1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const chosen = hits[active];
      if (open && chosen) openPerson(chosen.id);
      else if (text.trim()) showAll();
    } else if (event.key === 'Escape') {
      setOpen(false);
      setActive(-1);
    }
  };

  const expanded = open && text.trim() !== '' && (results !== null || error !== null);
  const listed = expanded && error === null && hits.length > 0;
  return (
    <div class="searchbox" role="search">
      <label for="people-search" class="visually-hidden">
        {t('search.label')}
      </label>
      <input
        ref={input}
        id="people-search"
        type="search"
        autocomplete="off"
        spellcheck={false}
        placeholder={t('search.placeholder')}
        value={text}
        role="combobox"
        aria-expanded={listed}
        aria-controls={listed ? 'people-search-results' : undefined}
        aria-autocomplete="list"
        aria-activedescendant={listed && active >= 0 ? `people-search-option-${active}` : undefined}
        onInput={(event) => onInput(event.currentTarget.value)}
        onKeyDown={onKeyDown}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      {expanded && (
        <div class="typeahead">
          {error !== null ? (
            <ErrorMessage error={error} />
          ) : hits.length === 0 ? (
            <p class="typeahead-empty" role="status">
              {t('search.noResults', { query: text.trim() })}
            </p>
          ) : (
            <>
              <ul id="people-search-results" role="listbox" aria-label={t('search.label')}>
                {hits.map((hit, index) => (
                  <li
                    key={hit.id}
                    id={`people-search-option-${index}`}
                    role="option"
                    aria-selected={index === active}
                    class={index === active ? 'option active' : 'option'}
                    onMouseDown={(event) => {
                      event.preventDefault();
                      openPerson(hit.id);
                    }}
                  >
                    <Avatar name={hit.display_name} id={hit.id} photoUrl={hit.photo_url} size="small" />
                    <span class="option-text">
                      <span class="option-name">
                        <Highlighted text={hit.display_name} query={text} />
                      </span>
                      <span class="option-detail">
                        {[hit.title, hit.department, hit.location].filter(Boolean).join(' · ')}
                      </span>
                    </span>
                  </li>
                ))}
              </ul>
              <button type="button" class="typeahead-all" onMouseDown={(event) => event.preventDefault()} onClick={showAll}>
                {t('search.allResults', { count: results?.total ?? 0 })}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
