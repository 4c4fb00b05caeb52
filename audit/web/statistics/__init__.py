"""The statistics room's web layer: the /stats page and its JSON API."""
from audit.web.statistics import api, pages

routers = (pages.router, api.router)
