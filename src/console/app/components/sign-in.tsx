import { useState } from 'preact/hooks';
import { ApiError, holdpoint } from '../api';
import type { ConsoleSession } from '../../../shared/wire-types';
import { Logo } from './logo';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: ConsoleSession) => void; notice?: string }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await holdpoint.signIn(apiKey.trim()));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Holdpoint could not be reached. Try again.');
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form class="sign-in-card" onSubmit={submit} aria-describedby="sign-in-help">
        <div class="sign-in-brand">
          <Logo />
          <div>
            <h1>Holdpoint</h1>
            <p class="muted">Reviewer console</p>
          </div>
        </div>
        {notice && !error && (
          <p class="notice notice-info" role="status">
            {notice}
          </p>
        )}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="apiKey"
          type="password"
          autoComplete="current-password"
          required
          value={apiKey}
          onInput={(e) => setApiKey((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <p id="sign-in-help" class="hint">
          Use your reviewer or admin key (<code>hp_…</code>). It is exchanged for a session cookie and not stored in the browser.
        </p>
        {error && (
          <p id="sign-in-error" class="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button-primary button-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
