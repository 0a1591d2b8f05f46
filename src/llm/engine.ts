/** The port every model user goes through: triage (grammar-constrained JSON), drafts (streamed), embeddings. */

export interface ModelInfo {
  path: string;
  name: string;
  architecture: string;
  sizeBytes: number;
  trainedContext: number;
  gpu: string | false;
  gpuLayers: number;
  totalLayers: number;
  parallel: number;
  contextSize: number;
}

export interface Usage {
  tokens: number;
  ms: number;
}

export interface JsonCall {
  system: string;
  user: string;
  /** JSON schema the output is constrained to (a grammar). */
  schema: object;
  maxTokens: number;
  signal?: AbortSignal;
}

export interface TextCall {
  system: string;
  user: string;
  maxTokens: number;
  signal?: AbortSignal;
  /** Called with each piece of generated text as it is produced. */
  onText?: (text: string) => void;
}

export interface LlmEngine {
  readonly info: ModelInfo;
  /** Structured output; `value` is parsed JSON that still has to be validated by the caller. */
  json(call: JsonCall): Promise<Usage & { value: unknown }>;
  /** Free text; `aborted` when the signal stopped it (the partial text is returned). */
  text(call: TextCall): Promise<Usage & { text: string; aborted: boolean }>;
  embed(text: string): Promise<number[]>;
  countTokens(text: string): number;
  dispose(): Promise<void>;
}
