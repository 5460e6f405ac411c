import { ArtifactStore } from '../activities/storage/artifact-store';
import { evaluateModel } from '../activities/evaluate/evaluate';
import { loadSpecFile } from '../activities/spec/loader';
import { trainModel } from '../activities/train/train';
import { featuresFor, sklearnReference } from '../bench/reference';
import { TEST_ARTIFACTS } from './support/temporal';
import { binaryMetrics } from '../contracts/metric-values';

/**
 * An independent reference: scikit-learn's LogisticRegression on the very feature matrix our trainer
 * saw (all of the flights training window) must not beat our model's validation AUC by more than 0.005.
 */
describe('our ONNX trainer against scikit-learn on the full flights feature set', () => {
  it('reaches scikit-learn’s validation AUC within 0.005', async () => {
    const store = new ArtifactStore(TEST_ARTIFACTS);
    const loaded = loadSpecFile('pipelines/flights.yaml');
    const features = await featuresFor(store, 'pipelines/flights.yaml');
    expect(features.train.rows).toBeGreaterThan(2_000_000);
    const { model } = await trainModel(store, { loaded, features });
    const metrics = binaryMetrics((await evaluateModel(store, { modelUri: model.uri, dataset: features.validate, label: features.label, threshold: 0.5, calibrationBins: 10 })).metrics);
    const reference = sklearnReference(store, features);
    expect(reference.rows).toBe(features.train.rows);
    console.log(`validation AUC: ours ${metrics.auc.toFixed(5)}, scikit-learn ${reference.auc.toFixed(5)} (${reference.iterations} lbfgs iterations)`);
    expect(metrics.auc).toBeGreaterThan(reference.auc - 0.005);
    expect(Math.abs(metrics.logLoss - reference.log_loss)).toBeLessThan(0.01);
  });
});
