"""What each device type can be told to do: one table, command name -> its parameters.

Every type answers ``ping``. A parameter is a number within limits or a
switch; anything else in a command's ``params`` is refused before it is queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str = "number"  # "number" | "switch"
    low: float | None = None
    high: float | None = None

    def check(self, value: Any) -> str | None:
        """An error message, or None if ``value`` is acceptable."""
        if self.kind == "switch":
            return None if isinstance(value, bool) else f"{self.name}: true or false"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name}: a number"
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"{self.name}: between {self.low} and {self.high}"
        return None


P = Param
#: device type -> command name -> its parameters (all required)
COMMANDS: dict[str, dict[str, tuple[Param, ...]]] = {
    "barrier_gate": {"open": (), "close": ()},
    "water_pump": {"start": (), "stop": (), "set_speed": (P("speed_pct", low=0, high=100),)},
    "fire_alarm": {"reset": (), "silence": ()},
    "lighting": {"switch": (P("on", "switch"),), "dim": (P("level_pct", low=0, high=100),)},
    "ev_charger": {"start": (), "stop": (), "set_power_limit": (P("kw", low=0, high=60),)},
    "elevator": {"return_to_ground": ()},
    "camera": {"reboot": ()},
}
del P
COMMON = {"ping": ()}


def commands_for(device_type: str) -> dict[str, tuple[Param, ...]]:
    return COMMON | COMMANDS.get(device_type, {})


def check(device_type: str, name: str, params: dict[str, Any]) -> list[str]:
    """Errors of command ``name`` with ``params`` for a ``device_type`` (empty if fine)."""
    known = commands_for(device_type)
    if name not in known:
        return [f"name: a {device_type} accepts {', '.join(sorted(known))}"]
    spec = {p.name: p for p in known[name]}
    errors = [f"params.{k}: not a parameter of {name}" for k in params if k not in spec]
    for p in spec.values():
        if p.name not in params:
            errors.append(f"params.{p.name}: required")
        elif (error := p.check(params[p.name])) is not None:
            errors.append(f"params.{error}")
    return errors
