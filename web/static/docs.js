/* Swagger UI for /docs: the schema of the logged-in user's app, and "Try it out"
   requests that carry the session's CSRF token like every other request. */
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    requestInterceptor: function (req) { req.headers["X-CSRF-Token"] = token; return req; }
  });
});
