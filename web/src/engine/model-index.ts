/**
 * The list of served models, models/index.json, written at build time by
 * web/config/models-plugin.ts.
 */
export interface ModelEntry {
  name: string;
  description: string;
  bytes: number;
}

export interface ModelIndex {
  default: string;
  models: ModelEntry[];
}

export function modelsBaseUrl(): URL {
  return new URL('models/', document.baseURI);
}

export async function fetchModelIndex(): Promise<ModelIndex> {
  const url = new URL('index.json', modelsBaseUrl());
  const response = await fetch(url);
  if (!response.ok) throw new Error(`no model list at ${url.pathname} (HTTP ${response.status})`);
  const index = (await response.json()) as Partial<ModelIndex>;
  if (!Array.isArray(index.models) || typeof index.default !== 'string') {
    throw new Error(`${url.pathname} is not a model list`);
  }
  const models = index.models.filter(
    (m): m is ModelEntry =>
      typeof m?.name === 'string' && /^[\w.-]+$/.test(m.name) && typeof m.bytes === 'number',
  );
  if (models.length === 0) throw new Error('no model is served: build with a model in models/ or tests/fixtures/tiny-gpt/');
  return { default: index.default, models };
}
