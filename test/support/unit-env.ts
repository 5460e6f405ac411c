import os from 'node:os';
import path from 'node:path';

// Unit tests read and write under the project and the system temp folder, as the integration suite's global setup allows.
process.env.SLUICE_DATA_ROOTS ??= [path.resolve(__dirname, '..', '..'), os.tmpdir()].join(path.delimiter);
