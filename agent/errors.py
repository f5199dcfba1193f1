"""Agent errors; the message is what the user sees."""


class AgentError(Exception):
    """Base class for agent failures."""


class ConfigError(AgentError):
    """The agent's configuration is missing or wrong (names the file and key)."""


class PolicyRefusal(AgentError):
    """The agent's local policy declines a campaign; the message lists every reason."""


class CoordinatorUnavailable(AgentError):
    """The coordinator could not be reached or refused the request (carries its message)."""
