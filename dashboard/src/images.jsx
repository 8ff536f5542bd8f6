// Images: the local list (tags, size, age, in-use mark, delete, run), pulling by reference with
// per-layer progress, and registry search (repositories, then a repository's tags).

import { useEffect, useState } from 'preact/hooks';
import { api, request, readJsonLines, shortId } from './api.js';
import { refresh, useStore } from './store.js';
import { ActionButton, Empty, ErrorLine, notify } from './ui.jsx';
import { ago, bytes } from './format.js';
import { RunDialog } from './run_dialog.jsx';

// "host:5000/a/b:tag" → {image: "host:5000/a/b", tag: "tag"}; digests stay in image.
export function splitRef(ref) {
  const r = ref.trim();
  if (r.includes('@')) return { image: r, tag: '' };
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (colon > slash) return { image: r.slice(0, colon), tag: r.slice(colon + 1) };
  return { image: r, tag: 'latest' };
}

function PullProgress({ pull }) {
  if (!pull) return null;
  const layers = Object.entries(pull.layers);
  return (
    <div class="pull" data-testid="pull-progress">
      <div class="pull-head">
        <strong>{pull.ref}</strong> <span class="muted">{pull.done ? pull.final || 'done' : 'pulling…'}</span>
      </div>
      <ErrorLine text={pull.error} />
      <ul class="layers">
        {layers.map(([id, l]) => {
          const pct = l.total ? Math.min(100, (100 * l.current) / l.total) : l.complete ? 100 : 0;
          return (
            <li key={id}>
              <span class="mono small">{id}</span>
              <progress max="100" value={pct} aria-label={`layer ${id}`} />
              <span class="small">
                {l.status}
                {l.total ? ` ${bytes(l.current)} / ${bytes(l.total)}` : ''}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

// Streams POST /images/create; returns when the pull finished (throws its error message).
async function pullImage(ref, onUpdate) {
  const { image, tag } = splitRef(ref);
  const state = { ref: tag ? `${image}:${tag}` : image, layers: {}, done: false, error: '', final: '' };
  onUpdate({ ...state });
  try {
    const res = await request('/images/create', { method: 'POST', query: { fromImage: image, tag: tag || undefined } });
    await readJsonLines(res, (m) => {
      if (m.errorDetail || m.error) {
        state.error = (m.errorDetail && m.errorDetail.message) || m.error;
      } else if (m.id && m.status && !/^Pulling from/.test(m.status)) {
        const l = state.layers[m.id] || { current: 0, total: 0, status: '' };
        l.status = m.status;
        if (m.progressDetail && m.progressDetail.total) {
          l.current = m.progressDetail.current || 0;
          l.total = m.progressDetail.total;
        }
        if (/complete|Already exists/i.test(m.status)) l.complete = true;
        state.layers[m.id] = l;
      } else if (m.status && /^(Status|Digest):/.test(m.status)) {
        if (m.status.startsWith('Status:')) state.final = m.status;
      }
      onUpdate({ ...state, layers: { ...state.layers } });
    });
  } catch (e) {
    state.error = e.message;
  }
  state.done = true;
  onUpdate({ ...state });
  refresh('images');
  if (state.error) throw new Error(state.error);
  return state;
}

function SearchPanel({ onPull }) {
  const [term, setTerm] = useState('');
  const [results, setResults] = useState(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const [repo, setRepo] = useState(null); // {name, tags | null, err}
  const search = async (e) => {
    e.preventDefault();
    if (!term.trim()) return;
    setBusy(true);
    setErr('');
    setRepo(null);
    try {
      setResults(await api('/images/search', { query: { term: term.trim(), limit: 25 } }));
    } catch (e2) {
      setResults(null);
      setErr(e2.message);
    } finally {
      setBusy(false);
    }
  };
  const openRepo = async (name) => {
    setRepo({ name, tags: null, err: '' });
    try {
      const tags = await api('/images/search', { query: { term: name, 'list-tags': 1 } });
      setRepo({ name, tags: tags || [], err: '' });
    } catch (e) {
      setRepo({ name, tags: [], err: e.message });
    }
  };
  return (
    <div class="card search">
      <form class="inline" onSubmit={search} role="search">
        <input type="search" placeholder="Search a registry (e.g. nginx, or registry:5000/team)" aria-label="Search images" value={term} onInput={(e) => setTerm(e.target.value)} />
        <button disabled={busy || !term.trim()}>{busy ? 'Searching…' : 'Search'}</button>
      </form>
      <ErrorLine text={err} />
      {results && results.length === 0 && <p class="empty">No repositories match “{term}”.</p>}
      {results && results.length > 0 && (
        <ul class="results" data-testid="search-results">
          {results.map((r) => (
            <li key={r.name}>
              <button class="link" onClick={() => openRepo(r.name)} data-repo={r.name}>
                {r.name}
              </button>
              {r.is_official && <span class="tag">official</span>}
              {r.star_count > 0 && <span class="muted small">★ {r.star_count}</span>}
              {r.description && <div class="muted small">{r.description}</div>}
              {repo && repo.name === r.name && (
                <div class="tags" data-testid="repo-tags">
                  {!repo.tags && <span class="muted small">loading tags…</span>}
                  <ErrorLine text={repo.err} />
                  {repo.tags && !repo.tags.length && !repo.err && <span class="muted small">no tags</span>}
                  {(repo.tags || []).map((t) => (
                    <button class="chip" onClick={() => onPull(`${r.name}:${t}`)} title={`pull ${r.name}:${t}`} data-tag={t}>
                      {t}
                    </button>
                  ))}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ImagesPage() {
  const images = useStore('images');
  const containers = useStore('containers');
  const errors = useStore('errors');
  const [ref, setRef] = useState('');
  const [pull, setPull] = useState(null);
  const [running, setRunning] = useState(null); // image ref for the Run dialog
  useEffect(() => {
    refresh('images');
    refresh('containers');
  }, []);
  const used = new Map();
  for (const c of containers || []) used.set(c.ImageID, (used.get(c.ImageID) || 0) + 1);
  const doPull = async (r) => {
    if (!r.trim()) return;
    try {
      const st = await pullImage(r, setPull);
      notify(`${st.ref}: ${st.final || 'pulled'}`, 'info');
    } catch (e) {
      notify(e.message);
    }
  };
  return (
    <section>
      <div class="page-head">
        <h1>Images</h1>
        <span class="muted">{images ? `${images.length} images` : ''}</span>
      </div>
      <div class="two-col">
        <div class="card">
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              doPull(ref);
            }}
          >
            <input placeholder="name:tag to pull" aria-label="Image to pull" value={ref} onInput={(e) => setRef(e.target.value)} />
            <button class="primary" disabled={!ref.trim() || (pull && !pull.done)}>
              Pull
            </button>
          </form>
          <PullProgress pull={pull} />
        </div>
        <SearchPanel onPull={doPull} />
      </div>
      <ErrorLine text={errors.images} />
      {images && !images.length && <Empty>No images. Pull one above.</Empty>}
      {images && images.length > 0 && (
        <table class="list" data-testid="images">
          <thead>
            <tr>
              <th>Repository:tag</th>
              <th>ID</th>
              <th>Size</th>
              <th>Created</th>
              <th>In use</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {images.map((im) => {
              const tags = (im.RepoTags || []).filter((t) => t !== '<none>:<none>');
              const n = used.get(im.Id) || 0;
              const label = tags[0] || shortId(im.Id);
              return (
                <tr key={im.Id} data-ref={tags.join(' ')}>
                  <td data-label="Tags" class="wrap">
                    {tags.length ? tags.map((t) => <div class="strong">{t}</div>) : <span class="muted">&lt;none&gt;</span>}
                  </td>
                  <td data-label="ID" class="mono">
                    {shortId(im.Id)}
                  </td>
                  <td data-label="Size" class="num">
                    {bytes(im.Size)}
                  </td>
                  <td data-label="Created">{ago(im.Created)}</td>
                  <td data-label="In use">
                    {n ? (
                      <span class="in-use" data-testid="in-use">
                        in use ({n})
                      </span>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td class="actions-cell">
                    <span class="row-actions">
                      <button class="primary" onClick={() => setRunning(tags[0] || im.Id)}>
                        Run…
                      </button>
                      <ActionButton
                        class="danger"
                        confirm={`Delete image ${label}?${tags.length > 1 ? ' (only this tag is removed; the image keeps its other tags)' : ''}`}
                        confirmLabel="Delete"
                        run={() => api(`/images/${encodeURIComponent(tags[0] || im.Id)}`, { method: 'DELETE' }).then(() => refresh('images'))}
                      >
                        Delete
                      </ActionButton>
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {running && <RunDialog image={running} onClose={() => setRunning(null)} />}
    </section>
  );
}
