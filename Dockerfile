# Sluice worker image. One image, many workers: they run compiled JavaScript and a workflow bundle built
# ahead of time (`npm run build`), so a worker starts in under 2 s instead of 5-6 s with tsx and bundling.

# Build stage: the TypeScript compiled, the workflow bundle built.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY contracts ./contracts
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY scripts/build.ts ./scripts/build.ts
RUN node_modules/.bin/tsx scripts/build.ts dist

# Runtime stage: production dependencies and the build output only, and a C compiler: workers compile tree
# models to native code for scoring (without one they score them with ONNX Runtime, more slowly).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY pipelines ./pipelines
ENV SLUICE_ARTIFACTS=/artifacts
CMD ["node", "dist/workers/main.js"]
