"""The monitor's widgets."""
