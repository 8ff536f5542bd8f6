// The Run dialog: name, ports, mounts, environment and restart policy for a new container,
// prefilled from the image's ExposedPorts and Volumes, with the equivalent `berth run` line.
// Create, then start; when the start fails the created container is deleted again.

import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { refresh } from './store.js';
import { Modal, notify } from './ui.jsx';
import { RESTART_POLICIES, commandLine, createRequest, emptyForm, formFromImage, isSecretKey, validate } from './run_spec.js';

function Field({ error, children }) {
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      {children}
      {error && <div class="field-error">{error}</div>}
    </div>
  );
}

function Rows({ title, rows, add, addLabel, render, testid }) {
  return (
    <fieldset data-testid={testid}>
      <legend>{title}</legend>
      {rows.map((r, i) => render(r, i))}
      <button type="button" class="small-btn" onClick={add}>
        + {addLabel}
      </button>
    </fieldset>
  );
}

export function RunDialog({ image, onClose }) {
  const [form, setForm] = useState(emptyForm(image));
  const [revealed, setRevealed] = useState({});
  const [showErrors, setShowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState('');
  const [loadNote, setLoadNote] = useState('');

  useEffect(() => {
    api(`/images/${encodeURIComponent(image)}/json`)
      .then((ins) => setForm((f) => ({ ...formFromImage(image, ins), name: f.name })))
      .catch((e) => setLoadNote(`image details unavailable: ${e.message}`));
  }, [image]);

  const errors = validate(form);
  const shown = showErrors ? errors : {};
  const update = (patch) => setForm((f) => ({ ...f, ...patch }));
  const setRow = (list, i, patch) => update({ [list]: form[list].map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const delRow = (list, i) => update({ [list]: form[list].filter((_, j) => j !== i) });

  const submit = async (e) => {
    e.preventDefault();
    setShowErrors(true);
    setApiError('');
    if (Object.keys(validate(form)).length) return;
    const { name, body } = createRequest(form);
    setBusy(true);
    let created = null;
    try {
      created = await api('/containers/create', { method: 'POST', query: { name: name || undefined }, body });
      await api(`/containers/${created.Id}/start`, { method: 'POST' });
      refresh('containers');
      notify(`${name || created.Id.slice(0, 12)} started`, 'info');
      onClose();
      window.location.hash = '#/containers';
    } catch (err) {
      setApiError(err.message);
      if (created) {
        // Nothing left half-made: the container (and its anonymous volumes) go again.
        try {
          await api(`/containers/${created.Id}`, { method: 'DELETE', query: { force: 1, v: 1 } });
        } catch (e2) {
          setApiError(`${err.message} (and removing the created container failed: ${e2.message})`);
        }
        refresh('containers');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={`Run ${image}`} onClose={onClose} wide>
      <form class="run-form" onSubmit={submit} noValidate>
        {loadNote && <p class="muted small">{loadNote}</p>}
        <Field error={shown.name}>
          <label>
            Name
            <input name="name" placeholder="optional, e.g. web" value={form.name} onInput={(e) => update({ name: e.target.value })} />
          </label>
        </Field>
        <Rows
          title="Ports (host → container)"
          testid="ports"
          rows={form.ports}
          addLabel="port"
          add={() => update({ ports: [...form.ports, { host: '', container: '' }] })}
          render={(p, i) => (
            <div class="row" data-row={i}>
              <Field error={shown[`ports.${i}.host`]}>
                <input aria-label="host port" name={`port-host-${i}`} inputMode="numeric" placeholder="8080" value={p.host} onInput={(e) => setRow('ports', i, { host: e.target.value })} />
              </Field>
              <span class="arrow">→</span>
              <Field error={shown[`ports.${i}.container`]}>
                <input aria-label="container port" name={`port-container-${i}`} placeholder="80/tcp" value={p.container} onInput={(e) => setRow('ports', i, { container: e.target.value })} />
              </Field>
              <button type="button" class="icon" aria-label="remove port" onClick={() => delRow('ports', i)}>
                ×
              </button>
            </div>
          )}
        />
        <Rows
          title="Volumes and bind mounts (host path or volume name → container path)"
          testid="mounts"
          rows={form.mounts}
          addLabel="mount"
          add={() => update({ mounts: [...form.mounts, { source: '', target: '' }] })}
          render={(m, i) => (
            <div class="row" data-row={i}>
              <Field error={shown[`mounts.${i}.source`]}>
                <input aria-label="mount source" name={`mount-source-${i}`} placeholder="/srv/data or a volume name (empty: anonymous)" value={m.source} onInput={(e) => setRow('mounts', i, { source: e.target.value })} />
              </Field>
              <span class="arrow">→</span>
              <Field error={shown[`mounts.${i}.target`]}>
                <input aria-label="container path" name={`mount-target-${i}`} placeholder="/data" value={m.target} onInput={(e) => setRow('mounts', i, { target: e.target.value })} />
              </Field>
              <button type="button" class="icon" aria-label="remove mount" onClick={() => delRow('mounts', i)}>
                ×
              </button>
            </div>
          )}
        />
        <Rows
          title="Environment"
          testid="env"
          rows={form.env}
          addLabel="variable"
          add={() => update({ env: [...form.env, { key: '', value: '' }] })}
          render={(v, i) => {
            const secret = isSecretKey(v.key);
            return (
              <div class="row" data-row={i}>
                <Field error={shown[`env.${i}.key`]}>
                  <input aria-label="variable name" name={`env-key-${i}`} placeholder="KEY" value={v.key} onInput={(e) => setRow('env', i, { key: e.target.value })} />
                </Field>
                <span class="arrow">=</span>
                <Field>
                  <input
                    aria-label="variable value"
                    name={`env-value-${i}`}
                    type={secret && !revealed[i] ? 'password' : 'text'}
                    autocomplete="off"
                    placeholder="value"
                    value={v.value}
                    onInput={(e) => setRow('env', i, { value: e.target.value })}
                  />
                </Field>
                {secret ? (
                  <button type="button" class="small-btn" onClick={() => setRevealed({ ...revealed, [i]: !revealed[i] })}>
                    {revealed[i] ? 'Hide' : 'Show'}
                  </button>
                ) : (
                  <span class="toggle-space" />
                )}
                <button type="button" class="icon" aria-label="remove variable" onClick={() => delRow('env', i)}>
                  ×
                </button>
              </div>
            );
          }}
        />
        <div class="row restart">
          <Field error={shown.restart}>
            <label>
              Restart policy
              <select name="restart" value={form.restart} onChange={(e) => update({ restart: e.target.value })}>
                {RESTART_POLICIES.map((p) => (
                  <option value={p}>{p}</option>
                ))}
              </select>
            </label>
          </Field>
          {form.restart === 'on-failure' && (
            <Field error={shown.maxRetries}>
              <label>
                Max retries
                <input name="max-retries" inputMode="numeric" placeholder="unlimited" value={form.maxRetries} onInput={(e) => update({ maxRetries: e.target.value })} />
              </label>
            </Field>
          )}
        </div>
        <div class="cmdline">
          <div class="muted small">Equivalent command</div>
          <code data-testid="cmdline">{commandLine(form)}</code>
        </div>
        {apiError && (
          <p class="error-line" role="alert" data-testid="run-error">
            {apiError}
          </p>
        )}
        {showErrors && Object.keys(errors).length > 0 && <p class="error-line">Fix the marked fields first.</p>}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button class="primary" disabled={busy} data-testid="run-submit">
            {busy ? 'Starting…' : 'Run'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
