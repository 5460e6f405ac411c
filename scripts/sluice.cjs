#!/usr/bin/env node
// The `sluice` command (package.json "bin"): runs scripts/sluice-cli.ts through tsx.
require('tsx/cjs');
require('./sluice-cli.ts')
  .main()
  .then((code) => process.exit(code));
