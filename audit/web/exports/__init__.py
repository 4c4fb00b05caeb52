"""The exports room's web layer: the exports page and the downloads."""
from audit.web.exports import api, pages

routers = (pages.router, api.router)
