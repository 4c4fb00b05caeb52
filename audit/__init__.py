"""Case-file audit and review tool."""
