// The provider portal (/app/provider): a provider's developer or operator
// signs in with a provider credential, kept apart from the app user's
// session, and sees its own service level, rewards, loan offer, loans and
// API keys (viewerProvider). In development the credential is the token
// `plaza token --provider <id>` prints; anywhere, an API key (plzp_…)
// created here or by an operator; production's issuer may mint tokens too.
import { useMemo, useState } from 'preact/hooks';
import { Provider, useMutation, useQuery } from '@urql/preact';
import { makeClient } from '../client.js';
import { signal, useSignal } from '../signal.js';
import { navigate } from '../router.js';
import { money, when, verticalLabel } from '../format.js';
import PortalQuery from '../operations/ProviderPortal.graphql';
import CreateKey from '../operations/CreateProviderApiKey.graphql';
import RevokeKey from '../operations/RevokeProviderApiKey.graphql';
import { Loading, Problems } from '../ui.jsx';

const CREDENTIAL = 'plaza.providerCredential';
const credential = signal(localStorage.getItem(CREDENTIAL) || '');

function setCredential(c) {
  if (c) localStorage.setItem(CREDENTIAL, c);
  else localStorage.removeItem(CREDENTIAL);
  credential.set(c);
}

// refused tells whether a result says the credential is not a provider's.
function refused(res) {
  const errors = (res.error && res.error.graphQLErrors) || [];
  return errors.some((e) => e.extensions && (e.extensions.code === 'UNAUTHENTICATED' || e.extensions.code === 'FORBIDDEN'));
}

// usePortalClient is a client of its own per credential: nothing cached is
// shown to another provider, and the user's token is never sent here.
function usePortalClient(c) {
  return useMemo(() => makeClient({ credential: () => c, live: false }), [c]);
}

export function PortalSignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const c = value.trim();
    setBusy(true);
    setError('');
    // The credential is tried on the portal's own query before it is kept.
    const res = await makeClient({ credential: () => c, live: false }).query(PortalQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    setBusy(false);
    if (res.data && res.data.viewerProvider) {
      setCredential(c);
      navigate('/provider');
    } else if (refused(res) || (res.data && !res.data.viewerProvider)) {
      setError('Plaza does not accept this as a provider credential (expired, revoked, or not a provider\u2019s).');
    } else {
      setError((res.error && res.error.message) || 'sign-in failed');
    }
  }
  return (
    <section class="signin portal">
      <h1>Provider portal</h1>
      <p class="muted">For a provider's developers and operators: your traffic on Plaza, service level, rewards and loans.</p>
      <form onSubmit={submit}>
        <label>Token or API key
          <input name="credential" type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.target.value)} required />
        </label>
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted">An API key (<code>plzp_…</code>) comes from this portal or from Plaza's operators. In development,
        {' '}<code>go run . token --provider &lt;id&gt;</code> prints a token for a provider.</p>
    </section>
  );
}

export function Portal() {
  const c = useSignal(credential);
  const client = usePortalClient(c);
  if (!c) {
    queueMicrotask(() => navigate('/provider/signin', { replace: true }));
    return null;
  }
  return <Provider value={client}><PortalPage /></Provider>;
}

function signOut() {
  setCredential('');
  navigate('/provider/signin');
}

function PortalPage() {
  const [res, retry] = useQuery({ query: PortalQuery });
  const p = res.data && res.data.viewerProvider;
  if (refused(res)) {
    return (
      <section class="portal">
        <p class="error" role="alert">This credential is no longer accepted (expired or revoked).</p>
        <button type="button" onClick={signOut}>Sign in again</button>
      </section>
    );
  }
  return (
    <section class="portal">
      <Problems result={res} retry={retry} />
      {res.fetching && !p && <Loading />}
      {p && (
        <>
          <header class="portal-head">
            <h1>{p.name}</h1>
            <p class="muted"><code>{p.key}</code> · {verticalLabel[p.vertical] || p.vertical} · <span class="status" data-status={p.lifecycle}>{p.lifecycle}</span></p>
            <button type="button" onClick={signOut}>Sign out</button>
          </header>
          <ServiceLevel level={p.serviceLevel} />
          <Rewards rewards={p.rewards} />
          <LoanOffer offer={p.loanOffer} />
          <Loans loans={p.loans} />
          <ApiKeys keys={p.apiKeys} />
        </>
      )}
    </section>
  );
}

const levelText = {
  OK: 'Your calls meet Plaza\u2019s service levels.',
  WARNING: 'A warning threshold is breached: no consequence yet. See below what to fix.',
  DEMOTED: 'Demoted: your items rank lower in search until the service level recovers.',
  SUSPENDED: 'Suspended: Plaza does not call you. Lifting it takes an operator\u2019s approval once fixed.',
};

function ServiceLevel({ level }) {
  return (
    <div class="panel" data-panel="service-level">
      <h2>Service level</h2>
      <p><span class="level" data-level={level.state}>{level.state}</span>{level.since && <span class="muted"> since {when(level.since)}</span>}</p>
      <p class="muted">{levelText[level.state]}</p>
      {level.transitions.length > 0 && (
        <ul class="rows">
          {level.transitions.map((t, i) => <li key={i}><b>{t.from} → {t.to}</b> <span class="muted">{when(t.at)}</span><br />{t.reason}</li>)}
        </ul>
      )}
    </div>
  );
}

function Rewards({ rewards }) {
  const { programs } = rewards;
  return (
    <div class="panel" data-panel="rewards">
      <h2>Rewards</h2>
      <dl class="figures">
        <div><dt>Payable to you</dt><dd data-figure="payable">{money(rewards.payable)}</dd></div>
        <div><dt>Owed to Plaza</dt><dd data-figure="receivable">{money(rewards.receivable)}</dd></div>
        <div><dt>Loans outstanding</dt><dd data-figure="loan-outstanding">{money(rewards.loanOutstanding)}</dd></div>
      </dl>
      <p class="muted">Programs: {money(programs.perOrder)} per completed order, {money(programs.firstOrder)} for a user's first order with you,
        {' '}{money(programs.monthlyOk)} for a month spent OK.</p>
      {rewards.history.length === 0
        ? <p class="muted" data-list="ledger">No ledger entries yet.</p>
        : (
          <ul class="rows" data-list="ledger">
            {rewards.history.map((e) => (
              <li key={e.key} data-kind={e.kind}><b>{e.kind}</b> {e.memo} <span class="muted">{when(e.at)}</span>
                <br /><span class="muted">{e.postings.map((x) => `${x.account} ${money(x.amount)}`).join(' · ')}</span></li>
            ))}
          </ul>
        )}
    </div>
  );
}

function LoanOffer({ offer }) {
  return (
    <div class="panel" data-panel="loan-offer">
      <h2>Loan offer</h2>
      <p>{offer.maxAmount.amount > 0
        ? <>Up to <b data-figure="max-amount">{money(offer.maxAmount)}</b> for {offer.minTermDays}–{offer.maxTermDays} days.</>
        : <>No offer yet (<span data-figure="max-amount">{money(offer.maxAmount)}</span>): offers follow your completed orders.</>}
        {' '}90-day GMV: {money(offer.gmv90)}.</p>
      <ul class="rows" data-list="factors">
        {offer.factors.map((f) => <li key={f.name}><b>{f.name}</b> ×{f.value.toFixed(2)}<br /><span class="muted">{f.explanation}</span></li>)}
      </ul>
      <p class="muted">{offer.terms}</p>
    </div>
  );
}

function Loans({ loans }) {
  return (
    <div class="panel" data-panel="loans">
      <h2>Loans</h2>
      {loans.length === 0 ? <p class="muted">No loans.</p> : (
        <ul class="rows" data-list="loans">
          {loans.map((l) => (
            <li key={l.id}><b>{money(l.principal)}</b> <span class="status" data-status={l.status}>{l.status}</span>
              <br /><span class="muted">{l.termDays} days, fee {money(l.fee)}, outstanding {money(l.outstanding)}{l.arrears.amount > 0 ? `, in arrears ${money(l.arrears)}` : ''}, due {when(l.dueAt)}</span></li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ApiKeys({ keys }) {
  const [label, setLabel] = useState('');
  const [created, create] = useMutation(CreateKey);
  const [revoked, revoke] = useMutation(RevokeKey);
  const fresh = created.data && created.data.createProviderApiKey;
  return (
    <div class="panel" data-panel="api-keys">
      <h2>API keys</h2>
      {keys.length === 0 ? <p class="muted">No keys yet.</p> : (
        <ul class="rows" data-list="api-keys">
          {keys.map((k) => (
            <li key={k.id} data-id={k.id} data-revoked={k.revokedAt ? 'true' : 'false'}>
              <b>{k.label || 'unlabelled'}</b> <span class="muted">created {when(k.createdAt)} by {k.createdBy}{k.revokedAt ? `, revoked ${when(k.revokedAt)}` : ''}</span>
              {!k.revokedAt && <button type="button" disabled={revoked.fetching} onClick={() => revoke({ id: k.id })}>Revoke</button>}
            </li>
          ))}
        </ul>
      )}
      {revoked.error && <Problems result={revoked} />}
      <form class="form" aria-label="Create an API key" onSubmit={(e) => { e.preventDefault(); create({ label: label.trim() || null }); }}>
        <label>Label <input name="label" value={label} onInput={(e) => setLabel(e.target.value)} maxLength={64} /></label>
        <button type="submit" disabled={created.fetching}>Create key</button>
      </form>
      {created.error && <Problems result={created} />}
      {fresh && (
        <p class="ok" role="status">New key, shown this once: send it as <code>Authorization: Bearer …</code>
          <br /><code class="secret" data-secret>{fresh.key}</code></p>
      )}
    </div>
  );
}
