# Sluice worker image: Node 20 with the project's dependencies. One image, many workers.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund
COPY contracts ./contracts
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY scripts ./scripts
COPY pipelines ./pipelines
COPY tsconfig.json ./
ENV SLUICE_ARTIFACTS=/artifacts
CMD ["node_modules/.bin/tsx", "workers/main.ts"]
