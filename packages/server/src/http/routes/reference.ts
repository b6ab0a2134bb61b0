import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Endpoint } from '../../contract/endpoint.js';
import type { REFERENCE_ENDPOINTS } from '../../contract/endpoints/platform.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../../contract/openapi.js';
import type { EndpointHandlers } from '../endpoints.js';

/**
 * Serves the API reference: `/openapi.json`, built once from the endpoint table, and `/docs`, Swagger UI
 * rendering it. The renderer's files come from the installed `swagger-ui-dist` package and are read on
 * the first request for them, then kept in memory; the page loads nothing from another origin.
 */

/** The server package's version, for the document's `info.version`. */
export function serverVersion(): string {
  // src/http/routes and dist/http/routes are both three levels below the package root.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}

/** The OpenAPI document of `endpoints`, with this server's title and version. */
export function sandboxOpenApiDocument(endpoints: readonly Endpoint[]): OpenApiDocument {
  return buildOpenApiDocument(endpoints, { title: 'WeChat Pay APIv3 sandbox', version: serverVersion() });
}

// Relative URLs: from `/docs` they resolve to `/docs/…` and `/openapi.json`, and keep working behind a
// proxy that mounts the sandbox under a prefix.
const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WeChat Pay APIv3 sandbox: API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-initializer.js"></script>
</body>
</html>
`;

// Requests need a fresh signature each, which the page cannot make, so "Try it out" is off; the validator
// badge would call an outside service.
const INITIALIZER = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  supportedSubmitMethods: [],
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** A file of swagger-ui-dist, without its source-map comment (the map is not served). */
function readRendererFile(name: string): string {
  const path = createRequire(import.meta.url).resolve(`swagger-ui-dist/${name}`);
  return readFileSync(path, 'utf8').replace(
    /\n?(\/\/# sourceMappingURL=\S+|\/\*# sourceMappingURL=\S+ ?\*\/)\s*$/,
    '\n',
  );
}

/** A value computed on first use. */
function once(load: () => string): () => Promise<string> {
  let value: string | undefined;
  return async () => {
    value ??= load();
    return value;
  };
}

/** The handlers of {@link REFERENCE_ENDPOINTS}, serving `document`. */
export function referenceHandlers(document: OpenApiDocument): EndpointHandlers<typeof REFERENCE_ENDPOINTS> {
  return {
    getOpenApiDocument: async () => document,
    getReferencePage: async () => PAGE,
    getReferencePageStyles: once(() => readRendererFile('swagger-ui.css')),
    getReferencePageBundle: once(() => readRendererFile('swagger-ui-bundle.js')),
    getReferencePageInitializer: async () => INITIALIZER,
  };
}
