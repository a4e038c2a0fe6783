#!/usr/bin/env bash
# npm start: installs the npm packages if needed, builds the studio and serves the production build
# (service worker and offline mode included) at http://127.0.0.1:4173.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx vite build
exec npx vite preview --host 127.0.0.1 --port 4173 --strictPort
