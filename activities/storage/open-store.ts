import { ArtifactStore } from './artifact-store';
import { parseS3Uri, S3Objects, sharedS3Client } from './object-store';

/** Where a process keeps its artifacts: a folder, or an S3 location with the folder as its local cache. */
export interface ArtifactSettings {
  artifactRoot: string;
  artifactRemote?: string;
  cacheBytes?: number;
}

/** The artifact store the settings name (workers/config.ts reads them from the environment). */
export function openArtifactStore(settings: ArtifactSettings): ArtifactStore {
  if (!settings.artifactRemote) return new ArtifactStore(settings.artifactRoot);
  const remote = new S3Objects(sharedS3Client(), parseS3Uri(settings.artifactRemote, 'SLUICE_ARTIFACTS'));
  return new ArtifactStore(settings.artifactRoot, remote, { bytes: settings.cacheBytes });
}
