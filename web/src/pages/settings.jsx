import { useMutation, useQuery } from '@urql/preact';
import SettingsQuery from '../operations/Settings.graphql';
import UpdateSettings from '../operations/UpdateSettings.graphql';
import { useSignal } from '../signal.js';
import { session, signOut } from '../session.js';
import { BASE } from '../router.js';
import { Loading, Problems } from '../ui.jsx';

export function Settings() {
  const { user } = useSignal(session);
  const [res, retry] = useQuery({ query: SettingsQuery });
  const [upd, update] = useMutation(UpdateSettings);
  const settings = res.data && res.data.me && res.data.me.settings;
  return (
    <section class="settings">
      <h1>Settings</h1>
      <Problems result={res} retry={retry} />
      {res.fetching && !settings && <Loading />}
      {settings && (
        <label class="toggle">
          <input type="checkbox" name="personalization" checked={settings.personalization} disabled={upd.fetching}
            onChange={(e) => update({ personalization: e.target.checked })} />
          Personalise my home page
          <span class="muted block">{settings.personalization
            ? 'Plaza uses what you search, view and order to pick your home page.'
            : 'Off: nothing you do is recorded, and your home page is the same as everyone\u2019s.'}</span>
        </label>
      )}
      {upd.error && <Problems result={upd} />}
      <p>Signed in as <b>{user}</b>. <button type="button" onClick={() => { signOut(); window.location.replace(BASE + '/signin'); }}>Sign out</button></p>
    </section>
  );
}
