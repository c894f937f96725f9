import { useEffect, useRef, useState } from 'preact/hooks';
import { resumeSession, signOut, whenSignedOut } from '../api.ts';
import { AccountsPage } from './AccountsPage.tsx';
import { LivePage } from './LivePage.tsx';
import { Login } from './Login.tsx';
import { NodesPage } from './NodesPage.tsx';
import { ServicePage } from './ServicePage.tsx';

const PAGES = {
  live: { label: 'Live meetings', Page: LivePage },
  service: { label: 'Service', Page: ServicePage },
  nodes: { label: 'Nodes', Page: NodesPage },
  accounts: { label: 'Accounts', Page: AccountsPage },
} as const;
type PageName = keyof typeof PAGES;

const pageFromHash = (): PageName => {
  const name = location.hash.slice(1);
  return name in PAGES ? (name as PageName) : 'live';
};

/** The console: sign-in, then one page at a time (chosen by the address's #fragment). */
export function App() {
  const [session, setSession] = useState<'checking' | 'out' | 'in'>('checking');
  const [ended, setEnded] = useState(false);
  const [page, setPage] = useState<PageName>(pageFromHash);

  useEffect(() => {
    whenSignedOut(() => {
      setEnded(true);
      setSession('out');
    });
    void resumeSession().then((ok) => setSession(ok ? 'in' : 'out'));
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (session === 'checking') {
    return <main class="state-page"><div class="card"><h1>Opening the console…</h1></div></main>;
  }
  if (session === 'out') {
    return <Login ended={ended} onSignedIn={() => { setEnded(false); setSession('in'); }} />;
  }
  return <Shell page={page} onSignOut={async () => { await signOut(); setSession('out'); }} />;
}

function Shell({ page, onSignOut }: { page: PageName; onSignOut: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  const { Page, label } = PAGES[page];
  useEffect(() => {
    document.title = `${label} · Parley operator console`;
    // After a change of page, the reader starts at its heading (not on the first load).
    if (!first.current) heading.current?.focus();
    first.current = false;
  }, [page]);
  return (
    <div class="console">
      <header class="console-header">
        <p class="console-brand">Parley <span>operator console</span></p>
        <nav aria-label="Console pages">
          <ul class="console-nav">
            {(Object.keys(PAGES) as PageName[]).map((name) => (
              <li key={name}>
                <a href={`#${name}`} aria-current={name === page ? 'page' : undefined}>{PAGES[name].label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="button small" onClick={onSignOut}>Sign out</button>
      </header>
      <main class="console-main">
        <h1 ref={heading} tabIndex={-1}>{label}</h1>
        <Page />
      </main>
    </div>
  );
}
