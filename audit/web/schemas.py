"""The shapes every JSON operation shares: its error bodies, the text fields that obey
the limits, and the `responses=` declaration that documents them.

One error body for every refusal: `{"detail": "<what went wrong>"}` (`ErrorPublic`).
A 422 carries either that text (a domain rule refused the request) or FastAPI's list of
field errors (the request did not match its schema: `{"detail": [{"loc": [...], "msg": ...}]}`);
both are the one `InvalidPublic` shape, and some operations add the details they list
(`missing` items, sheet `errors`).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from audit import limits


class ErrorPublic(BaseModel):
    """Every refusal: 400 unreadable body, 401 login required, 403 not allowed or CSRF, 404 not found (also
    another municipality's data and ids outside the integer range), 409 conflict,
    413 too large, 423 locked, 503 busy."""
    detail: str = Field(description="What went wrong, in words for a person")


class FieldErrorPublic(BaseModel):
    """One field that did not match the schema (FastAPI's validation error)."""
    model_config = ConfigDict(extra="allow")
    loc: list[str | int] = Field(description="Where: body/query/path and the field name")
    msg: str
    type: str


class InvalidPublic(BaseModel):
    """422: the request was understood but refused; `detail` says why, as text, or as the
    list of fields that did not match the schema."""
    model_config = ConfigDict(extra="allow")
    detail: str | list[FieldErrorPublic]


class ConflictPublic(ErrorPublic):
    """409 on a stale `expected_version`: nothing was saved; reload to see the current answers."""
    current_version: int | None = None


WHY = {
    400: "The body could not be read (not UTF-8, not JSON or a broken form)",
    401: "Login required",
    403: "Not allowed for this role, or the CSRF token is missing",
    404: "Not found (also another municipality's data, and ids outside the integer range)",
    409: "Conflict with the current state (nothing was changed)",
    413: "Request body or upload larger than the limit",
    422: "Invalid request: the text says why, or the fields that do not match the schema",
    423: "The audit is locked; its answers are final",
    503: "The database is busy; try again",
}
MODELS: dict[int, type[BaseModel]] = {422: InvalidPublic}


def errors(*codes: int, **models: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the refusals an operation can give, each with its body model.
    `errors(401, 404, m409=ConflictPublic)` overrides the model of one code."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = models.get(f"m{code}") or MODELS.get(code, ErrorPublic)
        out[code] = {"model": model, "description": WHY[code]}
    return out


READ = (401, 403, 404, 422)      # every read of an audit's data (422: a path or query that is not its type)
WRITE = (400, 401, 403, 404, 413, 422, 503)   # every change (CSRF is a 403)


def _texts(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _texts(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(k)
            yield from _texts(v)


def _no_nul(value: Any) -> Any:
    for text in _texts(value):
        if "\x00" in text:
            raise ValueError("contains a NUL character (\\u0000), which text cannot hold")
    return value


def check_form_text(text: str | None, field: str) -> None:
    """The same rules for a text typed into a page's form: ValueError naming the field."""
    if text is None:
        return
    limits.check_text(text, field)
    if "\x00" in text:
        raise ValueError(f"{field}: contains a NUL character, which text cannot hold")


def _limited(field: str):  # type: ignore[no-untyped-def]
    def check(value: Any) -> Any:
        for text in _texts(value):
            limits.check_text(text, field)
        return _no_nul(value)
    return AfterValidator(check)


def limited_text(field: str) -> Any:
    """A free-text field (note, remark, reply, free-text answer) of at most
    `AUDIT_MAX_TEXT_CHARS` characters; longer answers 422 naming the field."""
    return Annotated[str, _limited(field)]


def limited_value(field: str) -> Any:
    """An answer value of any type whose text parts obey the same limit."""
    return Annotated[Any, _limited(field)]


class RequestBody(BaseModel):
    """Base of every JSON request body: no text anywhere in it may hold a NUL character
    (PostgreSQL cannot store one), refused with 422 naming the field."""

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _no_nul(value)
