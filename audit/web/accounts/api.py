"""The accounts room's JSON API: who is logged in."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from audit.web.deps import CurrentUser
from audit.web.schemas import errors

router = APIRouter(tags=["accounts"])


class UserPublic(BaseModel):
    username: str
    role: str = Field(description="admin, auditor or municipality")
    municipality: str | None = Field(description="The municipality of a municipality user")


@router.get("/api/me", responses=errors(401))
def me(user: CurrentUser) -> UserPublic:
    """The logged-in user."""
    return UserPublic(username=user.username, role=user.role, municipality=user.municipality)
