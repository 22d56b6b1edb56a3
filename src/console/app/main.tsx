import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { holdpoint, whenSignedOut } from './api';
import { ActionDetail } from './components/action-detail';
import { ActionList, type ListMode } from './components/action-list';
import { Dashboard } from './components/dashboard';
import { Logo } from './components/logo';
import { SignIn } from './components/sign-in';
import { useHashRoute } from './hooks';
import type { ConsoleSession } from '../../shared/wire-types';
import './styles.css';

type Boot = { state: 'checking' } | { state: 'signed-out'; notice?: string } | { state: 'signed-in'; session: ConsoleSession };

function Shell({ session, onSignOut }: { session: ConsoleSession; onSignOut: () => void }) {
  const route = useHashRoute();
  const [announcement, setAnnouncement] = useState('');
  const { principal } = session;
  const detailId = route.startsWith('/actions/') ? route.slice('/actions/'.length) : undefined;
  const dashboard = route === '/dashboard';
  const mode: ListMode = route === '/decided' ? 'decided' : route === '/all' && principal.role === 'admin' ? 'all' : 'inbox';

  // Move focus to the new page's heading, as a page load would, so screen readers follow navigation.
  useEffect(() => {
    const timer = setTimeout(() => document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true }), 0);
    return () => clearTimeout(timer);
  }, [route]);

  const nav: { href: string; label: string; current: boolean }[] = [
    { href: '#/inbox', label: 'Inbox', current: !detailId && !dashboard && mode === 'inbox' },
    { href: '#/decided', label: 'Decided', current: !detailId && mode === 'decided' },
    ...(principal.role === 'admin' ? [{ href: '#/all', label: 'All actions', current: !detailId && mode === 'all' }] : []),
    { href: '#/dashboard', label: 'Dashboard', current: dashboard },
  ];

  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.querySelector<HTMLElement>('main')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="#/inbox">
            <Logo size={28} />
            <span>
              Holdpoint <span class="brand-sub">Reviewer console</span>
            </span>
          </a>
          <nav aria-label="Main">
            <ul>
              {nav.map((item) => (
                <li>
                  <a href={item.href} aria-current={item.current ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            <span class="avatar" aria-hidden="true">
              {principal.id.slice(0, 1).toUpperCase()}
            </span>
            <span>
              <strong>{principal.id}</strong>
              <span class="muted small block">
                {principal.role}
                {principal.groups.length ? ` · ${principal.groups.join(', ')}` : ''}
              </span>
            </span>
            <button type="button" class="button button-quiet" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {detailId ? (
          <ActionDetail id={detailId} principal={principal} onAnnounce={setAnnouncement} />
        ) : dashboard ? (
          <Dashboard principal={principal} />
        ) : (
          <ActionList mode={mode} principal={principal} />
        )}
      </main>
      <div class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}

function App() {
  const [boot, setBoot] = useState<Boot>({ state: 'checking' });
  useEffect(() => {
    whenSignedOut(() => setBoot({ state: 'signed-out', notice: 'Your session ended. Sign in again.' }));
    holdpoint.session().then(
      (session) => setBoot({ state: 'signed-in', session }),
      () => setBoot({ state: 'signed-out' }),
    );
  }, []);

  if (boot.state === 'checking') return <p class="boot">Loading the Holdpoint console…</p>;
  if (boot.state === 'signed-out') return <SignIn notice={boot.notice} onSignedIn={(session) => setBoot({ state: 'signed-in', session })} />;
  const signOut = () => {
    void holdpoint.signOut().catch(() => undefined);
    setBoot({ state: 'signed-out', notice: 'You are signed out.' });
  };
  return <Shell session={boot.session} onSignOut={signOut} />;
}

render(<App />, document.getElementById('app')!);
