"""The review room's web layer: pages (HTML, htmx) and the JSON API."""
from audit.web.review import api, pages

routers = (pages.router, api.router)
