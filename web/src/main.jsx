import { render } from 'preact';
import { Provider } from '@urql/preact';
import { makeClient } from './client.js';
import { App } from './app.jsx';
import './style.css';

render(
  <Provider value={makeClient()}>
    <App />
  </Provider>,
  document.getElementById('app'),
);
