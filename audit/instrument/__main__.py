"""`python -m audit.instrument check FILE`: the room's commands without the full CLI."""
from audit.instrument.cli import instrument

instrument()
