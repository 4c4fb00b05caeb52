"""The register definition an audit is bound to: a frozen copy, like the instrument.

The first import of an audit binds it to the definition it was read with (file name,
content version, the content itself in `Audit.register_json`); later imports, the case
frame, the population frame and the labels of its register variables read that copy, so
editing `registers/*.yaml` never changes a running audit. An audit from before the binding
existed reads the repository's definition until its first import binds it.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlmodel import Session

from audit.auditlog import record
from audit.i18n import _
from audit.models import Audit, User
from audit.population.definition import (DEFAULT_FILE, RegisterDefinition, build_definition,
                                         default_definition, load_register_definition)

_CACHE: dict[tuple[int | None, str | None], RegisterDefinition] = {}
_LOCK = threading.Lock()


class RegisterBindingError(ValueError):
    """The audit is bound to another version of the register definition."""


def definition_for(audit: Audit | None) -> RegisterDefinition:
    """The audit's frozen register definition (the repository's when it has none yet)."""
    if audit is None or not audit.register_json:
        return default_definition()
    key = (audit.id, audit.register_version)
    found = _CACHE.get(key)
    if found is None:
        with _LOCK:
            found = _CACHE.get(key)
            if found is None:
                found = build_definition(json.loads(audit.register_json), f"audit {audit.name}")
                _CACHE[key] = found
    return found


def bind_register(session: Session, audit: Audit, path: str | Path | None = None,
                  user: User | None = None) -> RegisterDefinition:
    """Freeze the definition file into the audit (once: the same version again is a no-op,
    another version is refused while the audit holds a population)."""
    from sqlalchemy import func, select

    from audit.models import Person

    definition = load_register_definition(path) if path is not None else default_definition()
    if audit.register_version == definition.version:
        return definition_for(audit)
    if audit.register_version:
        has_population = session.scalar(select(func.count()).select_from(Person)
                                        .where(Person.audit_id == audit.id))
        if has_population:
            raise RegisterBindingError(_('audit {audit_name} is bound to register definition {version}; '
                                         'the file is now {new_version} and cannot replace it').format(
                audit_name=repr(audit.name), version=audit.register_version, new_version=definition.version))
    audit.register_name = Path(path or DEFAULT_FILE).name
    audit.register_version = definition.version
    audit.register_json = json.dumps(definition.content, ensure_ascii=False)
    session.add(audit)
    record(session, user=user, entity="audit", entity_id=audit.id, field="register_definition",
           new={"file": audit.register_name, "version": definition.version}, audit_id=audit.id)
    return definition
