// The integrators' page (/docs): Swagger UI, vendored under /static/docs/, rendering the
// service's own /openapi.json. A file of its own because the page allows no inline script.
//
// Read-only on purpose: no "Try it out" (supportedSubmitMethods is empty), no validator badge
// (validatorUrl null: it would load an image from validator.swagger.io), nothing remembered.
"use strict";

(() => {
  const mount = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: mount.dataset.specUrl,
    domNode: mount,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    supportedSubmitMethods: [],
    validatorUrl: null,
    persistAuthorization: false,
    queryConfigEnabled: false,
  });
})();
