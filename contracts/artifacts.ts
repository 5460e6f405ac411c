import type { FeatureProfile } from './checks';
import type { TrainerCheckpoint, TrainerResult } from './newton';

/** One column of a tabular artifact: its name and DuckDB type. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A reference to a file an activity produced. Workflows pass these, never rows.
 * `uri` is `artifact:<kind>/<fingerprint>/<file>`, relative to the artifact root, so a history
 * recorded on one machine means the same on another that shares the artifact store.
 */
export interface ArtifactRef {
  uri: string;
  fingerprint: string;
  rows: number;
  bytes: number;
  columns: ColumnInfo[];
}

/** A categorical feature's dictionary, as the feature set records it (the values and codes are in the `sluice_categories` statistics table). */
export interface CategoricalColumn {
  name: string;
  /** Values with a code of their own, 0 … codes − 1, most frequent first. */
  codes: number;
  /** Rarer values seen in training that share the code `codes` (0: none). */
  rare: number;
}

/** The training feature set: one Parquet file per split plus the statistics learned from the training window. */
export interface FeatureSet {
  fingerprint: string;
  train: ArtifactRef;
  validate: ArtifactRef;
  /** Tables computed from the training window only (target encodings and the like), by name. */
  stats: Record<string, ArtifactRef>;
  /** Model inputs, in order: every numeric output column of features.sql but the keys and the label. */
  featureColumns: ColumnInfo[];
  keys: string[];
  label: string;
  /** Mean of the training window's labels: the share of positive ones for a yes/no task, the mean a regression's baseline predicts; a multiclass label's most frequent class's share. */
  positiveRate: number;
  /** Rows of each split left out because their label horizon reaches past the end of the data (never given a made-up label). */
  horizonDropped?: { train: number; validate: number };
  /** Hash of the feature definition alone (label, stats and feature SQL, keys), whatever the data. */
  definitionHash: string;
  /** The categorical feature columns and their dictionaries (absent when the spec has none). */
  categorical?: CategoricalColumn[];
  /**
   * A multiclass label's classes, from the training window, in code order (the label column holds the code: the
   * position here), with their training rows; the model keeps them and writes a probability column for each.
   */
  classes?: ClassCount[];
  /** Each feature's distribution on the validation window, what a scored day's drift is measured against (absent in feature sets built before it). */
  profile?: FeatureProfile[];
}

/** One class of a multiclass label and its rows in the training window. */
export interface ClassCount {
  name: string;
  rows: number;
}

/** The extracted rows, and the newest time in the whole source: labels whose horizon passes it are not known yet. */
export interface ExtractedRows extends ArtifactRef {
  /** `YYYY-MM-DD HH:MM:SS` (absent in artifacts made before point-in-time windows). */
  dataEnd?: string;
}

/** A trained, exported model and how its training went. */
export interface ModelArtifact {
  uri: string;
  fingerprint: string;
  bytes: number;
  featureNames: string[];
  label: string;
  /**
   * `refit`: a boosting trainer trained again on the whole training window for the rounds early stopping chose
   * (`bestIteration`), in `refitSeconds` (absent in models trained before it was reported);
   * `imported`: a model trained elsewhere (no iterations here).
   */
  training: Omit<TrainerResult, 'theta' | 'stopReason'> & { stopReason: TrainerResult['stopReason'] | 'imported'; refit?: boolean; refitSeconds?: number; searched?: boolean };
}

/** What the train activity heartbeats: progress, and a checkpoint a retried attempt resumes from. */
export interface TrainHeartbeat {
  fingerprint: string;
  iteration: number;
  maxIterations: number;
  checkpoint: TrainerCheckpoint;
  /** Wall seconds training has taken so far, over every attempt (what `budget.max_training_time` limits). */
  spentSeconds?: number;
}

/** A model trained elsewhere, to be registered in a pipeline's registry (`sluice models register`). */
export interface ExternalModel {
  /** The ONNX file as uploaded to the artifact store ({@link uploadModelFile}). */
  uri: string;
  /** Its file name, for messages and the registry. */
  file: string;
  /**
   * The feature columns the model reads, in its input order (`--schema`). A type, when given, must be numeric:
   * every feature reaches a model as float32, whatever its SQL type. Absent: the names the model carries in
   * its metadata (`sluice.feature_names`), else — when its input is exactly as wide — every feature column of
   * features.sql in their order.
   */
  features?: Array<{ name: string; type?: string }>;
  description?: string;
}
