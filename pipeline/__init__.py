"""crosspost: campaign YAML -> language-specific posts -> platforms, on schedule, exactly once."""

__version__ = "0.1.0"
