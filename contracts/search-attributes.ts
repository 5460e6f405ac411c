import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes a Sluice run carries, so operators can filter runs in the Web UI
 * (`SluicePipeline="flights" AND SluiceStatus="awaiting-approval"`) and with `temporal workflow list -q`.
 * The dev-server script registers every key listed in {@link SLUICE_SEARCH_ATTRIBUTES}.
 */
export const SluicePipeline = defineSearchAttributeKey('SluicePipeline', SearchAttributeType.KEYWORD);
export const SluiceStatus = defineSearchAttributeKey('SluiceStatus', SearchAttributeType.KEYWORD);
export const SluiceModelVersion = defineSearchAttributeKey('SluiceModelVersion', SearchAttributeType.INT);
/** Rows the run read from its sources, set when it ends. */
export const SluiceRows = defineSearchAttributeKey('SluiceRows', SearchAttributeType.INT);
/** CPU seconds the run's activities used, set when it ends. */
export const SluiceCpuSeconds = defineSearchAttributeKey('SluiceCpuSeconds', SearchAttributeType.DOUBLE);

/** What the run's data checks found (`passed`, `warned`, `failed`), set when they ran. */
export const SluiceChecks = defineSearchAttributeKey('SluiceChecks', SearchAttributeType.KEYWORD);

/** Name and server type of each custom attribute, in the form `temporal server start-dev --search-attribute` takes. */
export const SLUICE_SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' | 'Int' | 'Double' }> = [
  { name: SluicePipeline.name, type: 'Keyword' },
  { name: SluiceStatus.name, type: 'Keyword' },
  { name: SluiceModelVersion.name, type: 'Int' },
  { name: SluiceRows.name, type: 'Int' },
  { name: SluiceCpuSeconds.name, type: 'Double' },
  { name: SluiceChecks.name, type: 'Keyword' },
];
