# syntax=docker/dockerfile:1
# One image recipe for the Node services, one target each: cloud-ingest, edge-agent, simulators.
#   docker build --target cloud-ingest -t safe-community/cloud-ingest .
# The services run their TypeScript through tsx (as in development), so there is no build step to drift
# from the tested sources. docker-compose.yml builds every target from this file and holds the health
# checks, next to the ports and variables they depend on.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies: the workspace manifests first, so source edits do not invalidate the npm layer ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# The CPU build of onnxruntime ships in the npm package; skip the optional GPU download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json tsconfig.json ./
COPY contracts/package.json contracts/
COPY runtime/package.json runtime/
COPY analytics/package.json analytics/
COPY edge-agent/package.json edge-agent/
COPY cloud-ingest/package.json cloud-ingest/
COPY models/package.json models/
COPY dashboards/package.json dashboards/
COPY firmware-configs/package.json firmware-configs/
COPY simulators/package.json simulators/
COPY bench/package.json bench/
COPY testkit/package.json testkit/
# tsx is a dev dependency of the root and is the runtime loader, so dev dependencies stay.
RUN npm ci --no-audit --no-fund

# ---- shared source every service imports ----
FROM deps AS common
COPY contracts/src contracts/src
COPY runtime/src runtime/src
ENV NODE_ENV=production
RUN mkdir -p /data && chown node:node /data

# ---- cloud ingest: MQTT + HTTP into PostgreSQL/TimescaleDB ----
FROM common AS cloud-ingest
COPY analytics/src analytics/src
COPY cloud-ingest/src cloud-ingest/src
COPY cloud-ingest/migrations cloud-ingest/migrations
USER node
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["node", "--import", "tsx", "cloud-ingest/src/main.ts"]

# ---- edge agent: device broker, cameras (ffmpeg), inference, linkage, outbox, uplink ----
FROM common AS edge-agent
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
COPY analytics/src analytics/src
COPY models/src models/src
COPY models/manifests models/manifests
COPY models/labels models/labels
COPY firmware-configs/src firmware-configs/src
COPY firmware-configs/profiles firmware-configs/profiles
COPY edge-agent/src edge-agent/src
COPY edge-agent/rules edge-agent/rules
USER node
ENV DATA_DIR=/data MODELS_DIR=/models EDGE_BROKER_PORT=1883
VOLUME ["/data"]
EXPOSE 1883
CMD ["node", "--import", "tsx", "edge-agent/src/main.ts"]

# ---- simulators: gates, barriers, fire panels, wearables and ONVIF/RTSP cameras ----
FROM common AS simulators
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
COPY firmware-configs/src firmware-configs/src
COPY firmware-configs/profiles firmware-configs/profiles
COPY simulators/src simulators/src
USER node
CMD ["node", "--import", "tsx", "simulators/src/main.ts"]
