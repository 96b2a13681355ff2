import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { pickLang } from './lib/i18n';
import { stripSensitiveParams } from './lib/url';
import './styles.css';
import './ui/join.css';
import './ui/tiles.css';

// `?name=` is ignored and `?token=` is already in the HttpOnly cookie: neither stays in the address bar.
stripSensitiveParams(window);
document.documentElement.lang = pickLang(navigator.language);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
