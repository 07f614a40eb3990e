// The provider portal (/app/provider): a provider's developer or operator
// signs in with a provider credential, kept apart from the app user's
// session, and sees its own traffic, service level, rewards, loan offer
// (and applies for it), loans (and repays early) and API keys
// (viewerProvider). In development the credential is the token
// `plaza token --provider <id>` prints; anywhere, an API key (plzp_…)
// created here or by an operator; production's issuer may mint tokens too.
import { useMemo, useState } from 'preact/hooks';
import { Provider, useMutation, useQuery } from '@urql/preact';
import { makeClient } from '../client.js';
import { signal, useSignal } from '../signal.js';
import { navigate } from '../router.js';
import { idempotencyKey, money, when, verticalLabel } from '../format.js';
import PortalQuery from '../operations/ProviderPortal.graphql';
import CreateKey from '../operations/CreateProviderApiKey.graphql';
import RevokeKey from '../operations/RevokeProviderApiKey.graphql';
import ApplyForLoan from '../operations/ApplyForLoan.graphql';
import RepayLoan from '../operations/RepayLoan.graphql';
import TrafficQuery from '../operations/ProviderTraffic.graphql';
import PlacementQuery from '../operations/ProviderPlacement.graphql';
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
          <Traffic />
          <Rewards rewards={p.rewards} />
          <LoanOffer offer={p.loanOffer} open={p.loans.some((l) => l.status === 'OPEN')} />
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

function LoanOffer({ offer, open }) {
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
      {offer.maxAmount.amount > 0 && <LoanApplication key={offer.id} offer={offer} open={open} />}
    </div>
  );
}

// cost is what borrowing amount (minor units) for term days costs under
// the offer: the gateway's own arithmetic (growth.LoanPolicy.Fee), shown
// before applying; the loan the gateway returns is what counts.
function cost(offer, amount, term) {
  const periods = Math.ceil(term / 30);
  const fee = Math.ceil((amount * Math.round(offer.feePercentPer30Days * 100) * periods) / 10000);
  return { fee, total: amount + fee, daily: Math.ceil((amount + fee) / term) };
}

// LoanApplication applies for a loan from the offer. The inputs are not
// clamped to the offer: the gateway checks every application and its
// refusal (above the offer, no consent, a loan already open) is shown as
// it says it.
function LoanApplication({ offer, open }) {
  const currency = offer.maxAmount.currency;
  const [yuan, setYuan] = useState(String(Math.floor(offer.maxAmount.amount / 200)));
  const [term, setTerm] = useState(String(offer.minTermDays));
  const [consent, setConsent] = useState(false);
  // One key per application: a second click or a retry applies once.
  const [key, setKey] = useState(idempotencyKey);
  const [res, apply] = useMutation(ApplyForLoan);
  const amount = Math.round(Number(yuan) * 100);
  const days = Number.parseInt(term, 10);
  const valid = Number.isFinite(amount) && amount > 0 && days > 0;
  const c = valid ? cost(offer, amount, days) : null;
  const loan = res.data && res.data.applyForLoan;
  async function submit(e) {
    e.preventDefault();
    const r = await apply({ input: { amount: { amount: Number.isFinite(amount) ? amount : 0, currency }, termDays: Number.isFinite(days) ? days : 0,
      idempotencyKey: key, consent } });
    if (r.data && r.data.applyForLoan) setKey(idempotencyKey()); // the next application is another one
  }
  return (
    <form class="form loan-application" aria-label="Apply for a loan" noValidate onSubmit={submit}>
      <h3>Apply</h3>
      {open && <p class="muted">You have an open loan: Plaza lends one at a time.</p>}
      <label>Amount ({currency}) <input name="amount" inputMode="decimal" value={yuan} onInput={(e) => setYuan(e.target.value)} /></label>
      <label>Term (days, {offer.minTermDays}–{offer.maxTermDays}) <input name="term" inputMode="numeric" value={term} onInput={(e) => setTerm(e.target.value)} /></label>
      {c && (
        <dl class="figures" data-list="loan-cost">
          <div><dt>Fee ({offer.feePercentPer30Days.toFixed(2)}% per started 30 days)</dt><dd data-figure="fee">{money({ amount: c.fee, currency })}</dd></div>
          <div><dt>Total cost</dt><dd data-figure="total-cost">{money({ amount: c.total, currency })}</dd></div>
          <div><dt>Repayment</dt><dd data-figure="repayment">{offer.repaymentSharePercent}% of each day's settled sales, at least {money({ amount: c.daily, currency })} a day on average</dd></div>
        </dl>
      )}
      <label class="check consent"><input type="checkbox" name="consent" checked={consent} onChange={(e) => setConsent(e.target.checked)} />
        {' '}I agree to the offer's terms above.</label>
      <button type="submit" disabled={res.fetching}>Apply for the loan</button>
      {res.error && <Refusal error={res.error} />}
      {loan && <p class="ok" role="status" data-applied={loan.id}>Approved and disbursed: {money(loan.principal)}, total cost {money(loan.totalCost)}, due {when(loan.dueAt)}.</p>}
    </form>
  );
}

// Refusal shows why the gateway refused a mutation, in its own words.
function Refusal({ error }) {
  const errors = error.graphQLErrors || [];
  return (
    <div class="problems" role="alert" data-refusal>
      {error.networkError && <p>The gateway cannot be reached: {error.networkError.message}</p>}
      {errors.map((e, i) => <p key={i} data-code={e.extensions && e.extensions.code}>{e.message}</p>)}
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
            <li key={l.id} data-id={l.id} data-status={l.status}><b>{money(l.principal)}</b> <span class="status" data-status={l.status}>{l.status}</span>
              <br /><span class="muted">{l.termDays} days, fee {money(l.fee)}, total cost {money(l.totalCost)}, due {when(l.dueAt)}</span>
              <br /><span data-figure="schedule">Repaid from {l.repaymentSharePercent}% of each day's settled sales, at least {money(l.minimumDaily)} a day on average.</span>
              <br /><span>Outstanding <b data-figure="outstanding">{money(l.outstanding)}</b>{l.arrears.amount > 0 ? <>, in arrears <b data-figure="arrears">{money(l.arrears)}</b></> : ', on schedule'}.</span>
              {l.status === 'OPEN' && <Repay loan={l} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Repay({ loan }) {
  const [yuan, setYuan] = useState('');
  const [key, setKey] = useState(idempotencyKey);
  const [res, repay] = useMutation(RepayLoan);
  async function submit(e) {
    e.preventDefault();
    const amount = Math.round(Number(yuan) * 100);
    const r = await repay({ id: loan.id, amount: Number.isFinite(amount) ? amount : 0, idempotencyKey: key });
    if (r.data && r.data.repayLoan) setKey(idempotencyKey());
  }
  return (
    <form class="form" aria-label="Repay early" noValidate onSubmit={submit}>
      <label>Repay early ({loan.outstanding.currency}) <input name="repay" inputMode="decimal" value={yuan} onInput={(e) => setYuan(e.target.value)} /></label>
      <button type="submit" disabled={res.fetching}>Repay</button>
      {res.error && <Refusal error={res.error} />}
    </form>
  );
}

// trafficDays is how far back the traffic panel looks.
const trafficDays = 30;

function Traffic() {
  // The range is fixed when the panel first renders: whole UTC days, today included.
  const range = useMemo(() => {
    const to = new Date();
    to.setUTCHours(24, 0, 0, 0);
    return { from: new Date(to.getTime() - trafficDays * 86400000).toISOString(), to: to.toISOString() };
  }, []);
  const [res, retry] = useQuery({ query: TrafficQuery, variables: range });
  const v = res.data && res.data.viewerProvider;
  const pct = (x) => (x == null ? '–' : `${(100 * x).toFixed(1)}%`);
  return (
    <div class="panel" data-panel="traffic">
      <h2>Traffic, last {trafficDays} days</h2>
      <Problems result={res} retry={retry} />
      {res.fetching && !v && <Loading />}
      {v && (
        <>
          {v.traffic.length === 0 ? <p class="muted" data-list="traffic">No impressions yet.</p> : (
            <div class="scroll">
              <table class="traffic" data-list="traffic">
                <thead><tr><th>Day</th><th>City</th><th>Search</th><th>Home</th><th>Clicks</th><th>Orders</th><th>Bookings</th><th>GMV</th><th>Conversion</th></tr></thead>
                <tbody>
                  {v.traffic.map((d) => (
                    <tr key={d.day + (d.city || '')} data-day={d.day.slice(0, 10)} data-city={d.city || ''}>
                      <td>{d.day.slice(0, 10)}</td><td>{d.city || 'any'}</td><td data-figure="search">{d.searchImpressions}</td><td data-figure="home">{d.homeImpressions}</td>
                      <td data-figure="clicks">{d.clicks}</td><td data-figure="orders">{d.orders}</td><td data-figure="bookings">{d.bookings}</td>
                      <td data-figure="gmv">{money({ amount: d.gmv, currency: 'CNY' })}</td><td data-figure="conversion">{pct(d.conversion)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>Top queries</h3>
          {v.topQueries.length === 0 ? <p class="muted">None yet.</p> : (
            <ul class="rows" data-list="top-queries">
              {v.topQueries.map((q) => (
                <li key={q.query + (q.city || '')} data-query={q.query}><b>“{q.query}”</b> {q.city || 'any city'}: <span data-figure="impressions">{q.impressions}</span> impressions,
                  {' '}<span data-figure="clicks">{q.clicks}</span> clicks{q.meanRank != null && <>, mean rank {q.meanRank.toFixed(1)}, best {q.bestRank}</>}</li>
              ))}
            </ul>
          )}
          <Placement initial={v.topQueries[0]} />
          <h3>Demand you could serve</h3>
          {v.demand.length === 0 ? <p class="muted" data-list="demand">No unserved searches in your vertical and cities.</p> : (
            <ul class="rows" data-list="demand">
              {v.demand.map((d) => (
                <li key={d.query + (d.city || '')} data-query={d.query}><b>“{d.query}”</b> {d.city || 'any city'}: {d.searches} searches,
                  {' '}{d.zeroResults} found nothing, {d.lowResults} found 1–3</li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

// Placement shows where the provider's items rank for a query now, each
// score split into what makes it and what would raise it.
function Placement({ initial }) {
  const [text, setText] = useState(initial ? initial.query : '');
  const [city, setCity] = useState(initial && initial.city ? initial.city : '');
  const [asked, setAsked] = useState(initial ? { query: initial.query, city: initial.city || null } : null);
  const [res] = useQuery({ query: PlacementQuery, variables: asked || {}, pause: !asked });
  const pl = res.data && res.data.viewerProvider && res.data.viewerProvider.placement;
  return (
    <div data-panel="placement">
      <h3>Where you appear</h3>
      <form class="form" aria-label="Where do I appear" onSubmit={(e) => { e.preventDefault(); if (text.trim()) setAsked({ query: text.trim(), city: city.trim() || null }); }}>
        <label>Query <input name="query" value={text} onInput={(e) => setText(e.target.value)} /></label>
        <label>City <input name="city" value={city} onInput={(e) => setCity(e.target.value)} /></label>
        <button type="submit">Show</button>
      </form>
      {res.error && <Problems result={res} />}
      {pl && (
        <>
          <p class="muted" data-figure="total-results">{pl.totalResults} results for “{pl.query}”{pl.city ? ` in ${pl.city}` : ''}.</p>
          <ul class="rows" data-list="placement">
            {pl.items.map((it) => (
              <li key={it.id} data-position={it.position}><b>#{it.position}</b> {it.name} <span class="muted">score {it.score.toFixed(2)}</span>
                <br /><span class="muted">{it.reasons.map((r) => `${r.factor} ${r.contribution.toFixed(2)}: ${r.explanation}`).join(' · ')}</span></li>
            ))}
          </ul>
        </>
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
