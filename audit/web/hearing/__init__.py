"""The comment-round room's web layer: pages (admin, municipality portal, remark queue)
and the downloads and JSON API."""
from audit.web.hearing import api, pages

routers = (pages.router, api.router)
