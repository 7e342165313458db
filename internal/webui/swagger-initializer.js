// Replaces the swagger-initializer.js shipped in github.com/swaggo/files/v2, which loads
// a demo document from the internet. Served at /docs/swagger-initializer.js by
// internal/webui.Docs; keep it free of absolute URLs (TestDocs checks).
window.onload = function () {
  window.ui = SwaggerUIBundle({
    // Served by the REST package on the same host.
    url: "/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // BaseLayout has no top bar, so no box to load some other document into.
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    // The default sends the document to validator.swagger.io for a badge.
    validatorUrl: null,
    // Several operations change or delete data: make trying one an explicit click.
    tryItOutEnabled: false,
    // Keep a bearer token entered through "Authorize" across reloads (localStorage).
    persistAuthorization: true,
    displayRequestDuration: true,
  });
};
