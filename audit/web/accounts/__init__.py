"""The accounts room's web layer: login, logout, the landing page, and `/api/me`."""
from audit.web.accounts import api, pages

routers = (pages.router, api.router)
