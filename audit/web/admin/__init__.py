"""The admin room's web layer: the agency's pages (audits, users, trail) and the overview API."""
from audit.web.admin import api, pages

routers = (pages.router, api.router)
