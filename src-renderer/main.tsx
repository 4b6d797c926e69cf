// Entry: pick the host's Api, build the store on it, render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { chooseApi } from './api/index.js';
import { App } from './App.js';
import { StoreContext } from './components/hooks.js';
import { createAppStore } from './store.js';

const store = createAppStore(chooseApi());
const root = document.getElementById('root');
if (!root) throw new Error('#root missing from index.html');
createRoot(root).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);
