import { onnx } from 'onnx-proto';

/** An attribute value with its ONNX type made explicit (ONNX distinguishes INT from FLOAT). */
export type Attribute = { i: number } | { f: number } | { ints: number[] } | { s: string };

/** A tensor dimension: a fixed size or a symbolic name (e.g. `batch`). */
export type Dim = number | string;

/** ONNX opset this project's graphs target (supported by onnxruntime-node and by the ONNX checker). */
export const OPSET = 17;
const IR_VERSION = 8;

/**
 * A small builder for float32 ONNX graphs: inputs, initializers, operator nodes with generated
 * intermediate names, outputs; `toBytes` serializes a complete ModelProto.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float32 constant baked into the graph. */
  constant(name: string, dims: number[], values: ArrayLike<number>): string {
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(values) });
    return name;
  }

  /** An int64 constant (shapes, axes). */
  constantInt64(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** Adds one node; returns its output name (`output` if given, else a fresh one). */
  op(type: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? `${type.toLowerCase()}_${this.counter++}`;
    this.nodes.push({
      opType: type,
      name: `${type}_${this.nodes.length}`,
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return out;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** The serialized model, with `metadata` as metadata_props. */
  toBytes(metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'sluice',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: Attribute): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in value) return { name, type: T.INT, i: value.i };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  return { name, type: T.STRING, s: Buffer.from(value.s, 'utf8') };
}

/** Reads the metadata_props of a serialized model. */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  const out: Record<string, string> = {};
  for (const prop of model.metadataProps) if (prop.key) out[prop.key] = prop.value ?? '';
  return out;
}
