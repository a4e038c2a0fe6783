/**
 * Service-worker registration (vite-plugin-pwa, registerType autoUpdate) and the online/offline
 * state the header shows. "Offline ready" means a service worker controls this page: on the first
 * visit that is when workbox reports the precache done (clientsClaim makes it take control at once).
 */
import { registerSW } from 'virtual:pwa-register';
import { useStudio } from './store';

export function initPwa(): void {
  const { setOnline, setOfflineReady } = useStudio.getState();
  window.addEventListener('online', () => setOnline(true));
  window.addEventListener('offline', () => setOnline(false));
  if (!('serviceWorker' in navigator)) return;
  const sync = () => setOfflineReady(navigator.serviceWorker.controller !== null);
  sync();
  navigator.serviceWorker.addEventListener('controllerchange', sync);
  registerSW({
    immediate: true,
    onOfflineReady: () => setOfflineReady(true),
    onRegisterError: (err: unknown) => console.warn('Service worker registration failed; the studio will not work offline.', err),
  });
}
