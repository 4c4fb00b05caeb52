"""A stand-in instrument with the contract's API (docs/contracts.md), used only
while the real instrument engine (branch `instrument`) is not merged into this
branch. Item codes follow the real questionnaire's fixed codes."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Item:
    name: str
    type: str
    label_da: str
    label_en: str = ""
    hint: str = ""
    relevant: str | None = None      # "other == value"
    constraint: tuple[int, int] | None = None
    required: bool = False
    calculation: str | None = None
    theme: int = 1
    level: str = "case"
    choices: list[tuple[str, str]] = field(default_factory=list)


ITEMS = [
    Item("direction", "select_one", "Retning for indsatsen", required=True, theme=1,
         choices=[("jobrettet", "Jobrettet"), ("rehabiliterende", "Rehabiliterende"), ("fritaget", "Fritaget")]),
    Item("challenges", "select_multiple", "Udfordringer ud over ledighed", theme=1,
         choices=[("misbrug", "Misbrug"), ("fysiske", "Fysiske"), ("psykiske", "Psykiske"), ("sociale", "Sociale")]),
    Item("challenge_breadth", "integer", "Antal udfordringer", calculation="count(challenges)", theme=1),
    Item("stable_participation", "yes_no", "Deltager stabilt i eget forløb", required=True, theme=1),
    Item("interviews", "integer", "Antal samtaler", constraint=(0, 60), theme=2),
    Item("plan_job_goal", "yes_no", "Jobmål i planen", required=True, theme=3),
    Item("plan_job_goal_concrete", "yes_no", "Jobmålet er konkret", required=True, theme=3,
         relevant="plan_job_goal == ja"),
    Item("plan_comment", "text", "Bemærkning til planen", theme=3),
    Item("mgmt_supervision", "yes_no", "Ledelsestilsyn", required=True, theme=7, level="municipality"),
]


class Instrument:
    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.version = "stand-in-1"
        self.themes = [(1, "Målgruppe", "Target group"), (2, "Samtaler", "Interviews"),
                       (3, "Plan", "Plan"), (7, "Ledelse", "Management")]

    def to_dict(self) -> dict[str, Any]:
        return {"stand_in": True, "items": [asdict(i) for i in self.items]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Instrument":
        return cls([Item(**{**i, "choices": [tuple(c) for c in i["choices"]],
                            "constraint": tuple(i["constraint"]) if i["constraint"] else None}) for i in d["items"]])

    def item(self, name: str) -> Item:
        for i in self.items:
            if i.name == name:
                return i
        raise KeyError(name)

    def applicable(self, answers: dict[str, Any]) -> dict[str, bool]:
        out = {}
        for i in self.items:
            if i.relevant:
                other, value = [s.strip() for s in i.relevant.split("==")]
                out[i.name] = out.get(other, True) and answers.get(other) == value
            else:
                out[i.name] = True
        return out

    def derive(self, answers: dict[str, Any]) -> dict[str, Any]:
        ch = answers.get("challenges")
        return {"challenge_breadth": len(ch) if ch else None}

    def check_answer(self, name: str, value: Any, answers: dict[str, Any]) -> list[str]:
        i = self.item(name)
        codes = [c for c, _ in i.choices] or (["ja", "nej"] if i.type == "yes_no" else [])
        if i.type == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return ["expected a whole number"]
            if i.constraint and not i.constraint[0] <= value <= i.constraint[1]:
                return [f"must be between {i.constraint[0]} and {i.constraint[1]}"]
        elif i.type == "select_multiple":
            if not isinstance(value, list) or any(v not in codes for v in value):
                return ["unknown choice"]
        elif codes and value not in codes:
            return [f"{value!r} is not a choice"]
        return []

    def missing_required(self, answers: dict[str, Any]) -> list[str]:
        app = self.applicable(answers)
        return [i.name for i in self.items
                if i.required and app[i.name] and answers.get(i.name) in (None, "", [])]
