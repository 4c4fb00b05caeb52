"""The review room's web layer: pages (HTML, htmx) and the JSON API."""
from audit.web.review import api, itemhtml, pages  # noqa: F401  (itemhtml: the form template's item_renderer)

routers = (pages.router, api.router)
