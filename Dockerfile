# One image for every sync-server node. The server needs no build step (Node 22 strips the
# TypeScript types at load time); the web app is built into web/dist, which the node serves.
FROM node:22-slim

WORKDIR /app

# The whole workspace tree: npm ci needs every workspace's package.json to match the lock.
COPY . .

# All dependencies, dev ones included (the brief for this image: no --omit=dev). No install
# scripts are needed: better-sqlite3 loads its bundled prebuilds.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && node scripts/buildWeb.ts \
  && npm cache clean --force \
  && mkdir -p /data \
  && chown node:node /data

ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data

USER node
EXPOSE 3000
VOLUME ["/data"]

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "sync-server/src/main.ts"]
