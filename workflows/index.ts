/** Every workflow type a Sluice worker registers. */
export { trainPipeline } from './train-pipeline';
export { modelRegistry } from './model-registry';
export { batchInference } from './batch-inference';
export { backfill } from './backfill';
export { rollbackModel } from './rollback';
export { fitLogistic } from './fit-logistic';
export { fitLinear } from './fit-linear';
export { sinkHistory } from './sink-history';
