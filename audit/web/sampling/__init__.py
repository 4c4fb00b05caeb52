"""The sampling room's web layer: the admins' sampling page and the CSV downloads."""
from audit.web.sampling import api, pages

# the downloads first: /sampling/{audit_id}/sample.csv before the page's form addresses
routers = (api.router, pages.router)
